// A live call from the chat pane: the microphone streams to /api/voice/live on this server
// (16 kHz 16-bit mono PCM over a WebSocket), replies play sentence by sentence, and speaking
// over a reply stops it. The call lives on `window` so the page's reruns do not end it.
// Protocol: agent_core/http/voice_call.py.

const RATE = 16000;

function call() {
  return window.__vamCall;
}

function stopPlaying(state) {
  for (const source of state.playing) {
    try { source.stop(); } catch (e) { /* already ended */ }
  }
  state.playing = [];
  state.playAt = 0;
}

async function play(state, wav) {
  const buffer = await state.audio.decodeAudioData(wav);
  const source = state.audio.createBufferSource();
  source.buffer = buffer;
  source.connect(state.audio.destination);
  const start = Math.max(state.audio.currentTime, state.playAt);
  source.start(start);
  state.playAt = start + buffer.duration;
  state.playing.push(source);
  source.onended = () => { state.playing = state.playing.filter((s) => s !== source); };
}

function say(state, text) {
  state.lines.push(text);
  state.lines = state.lines.slice(-8);
  state.render();
}

async function start(data, render, replied) {
  const media = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
  });
  const audio = new AudioContext({ sampleRate: RATE });
  const query = new URLSearchParams({ tenantId: data.tenantId });
  if (data.conversationId) query.set("conversationId", data.conversationId);
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${window.location.host}/api/voice/live?${query}`);
  socket.binaryType = "arraybuffer";
  const state = { media, audio, socket, playing: [], playAt: 0, lines: [], render, status: "Connecting…", nextIsAudio: false };
  window.__vamCall = state;

  const microphone = audio.createMediaStreamSource(media);
  const tap = audio.createScriptProcessor(2048, 1, 1);
  const mute = audio.createGain();
  mute.gain.value = 0;
  tap.onaudioprocess = (event) => {
    if (socket.readyState !== WebSocket.OPEN) return;
    const samples = event.inputBuffer.getChannelData(0);
    const pcm = new Int16Array(samples.length);
    for (let i = 0; i < samples.length; i++) {
      pcm[i] = Math.max(-1, Math.min(1, samples[i])) * 0x7fff;
    }
    socket.send(pcm.buffer);
  };
  microphone.connect(tap);
  tap.connect(mute);
  mute.connect(audio.destination);
  state.tap = tap;

  socket.onmessage = (message) => {
    if (typeof message.data !== "string") {
      play(state, message.data);
      return;
    }
    const event = JSON.parse(message.data);
    if (event.type === "ready") state.status = "Listening — speak, then pause";
    else if (event.type === "speech_started") { stopPlaying(state); state.status = "Hearing you…"; }
    else if (event.type === "heard") { say(state, `You: ${event.text}`); state.status = "Answering…"; }
    else if (event.type === "not_heard") say(state, `Not heard: ${event.message}`);
    else if (event.type === "tool") say(state, `${event.name} ${event.status}`);
    else if (event.type === "interrupted") say(state, "(answer stopped: you spoke)");
    else if (event.type === "reply") {
      say(state, `Assistant: ${event.text}`);
      state.status = "Listening — speak, then pause";
      replied(event.conversationId);
    } else if (event.type === "error") say(state, `Error: ${event.message}`);
    state.render();
  };
  socket.onclose = () => { state.status = "Call ended"; hangUp(); state.render(); };
  state.render();
}

function hangUp() {
  const state = call();
  if (!state) return;
  window.__vamCall = undefined;
  stopPlaying(state);
  if (state.socket.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify({ type: "hangup" }));
  state.socket.close();
  if (state.tap) state.tap.disconnect();
  state.media.getTracks().forEach((track) => track.stop());
  state.audio.close();
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let root = parentElement.querySelector(".vam-call");
  if (!root) {
    root = document.createElement("div");
    root.className = "vam-call";
    root.innerHTML =
      '<button type="button" class="vam-call-button"></button>' +
      '<span class="vam-call-status" role="status"></span><ul class="vam-call-log"></ul>';
    parentElement.appendChild(root);
  }
  const button = root.querySelector(".vam-call-button");
  const status = root.querySelector(".vam-call-status");
  const log = root.querySelector(".vam-call-log");
  const render = () => {
    const state = call();
    button.textContent = state ? "End call" : "Start call";
    button.dataset.active = state ? "true" : "false";
    status.textContent = state ? state.status : "Talk with the assistant, hands free: it answers when you pause.";
    log.replaceChildren(...(state ? state.lines : []).map((line) => {
      const item = document.createElement("li");
      item.textContent = line;
      return item;
    }));
  };
  if (call()) call().render = render;
  button.onclick = async () => {
    if (call()) { hangUp(); render(); return; }
    try {
      await start(data, render, (conversationId) => setTriggerValue("replied", conversationId));
    } catch (error) {
      status.textContent = `The call could not start: ${error.message}`;
    }
  };
  render();
}
