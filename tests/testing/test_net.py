"""The loopback helpers tests use to start servers in other processes."""

from __future__ import annotations

import socket

from agent_core.testing.net import free_port, port_block


def ephemeral_floor() -> int:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as ports:
        return int(ports.read().split()[0])


def test_a_free_port_is_below_the_ports_the_kernel_picks_for_connections() -> None:
    port = free_port()

    assert port in port_block()
    assert port < ephemeral_floor()
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))


def test_each_test_process_hands_out_ports_no_other_does() -> None:
    blocks = [set(port_block(f"gw{n}")) for n in range(4)]

    assert all(len(block) == 1_000 for block in blocks)
    assert all(not a & b for i, a in enumerate(blocks) for b in blocks[i + 1 :])
    assert all(max(block) < ephemeral_floor() for block in blocks)


def test_a_port_something_listens_on_is_skipped() -> None:
    taken = free_port()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", taken))
        listener.listen()
        handed_out = {free_port() for _ in range(len(port_block()))}

    assert taken not in handed_out
