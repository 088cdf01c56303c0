// A browser participant of a conference-gui meeting, written from SPEC.md section 2 alone
// (wire contract v1 and "Calls (wire contract v2)"): the real socket.io-client 4 and the
// browser's own RTCPeerConnection / getUserMedia, nothing of the desktop client.
//
// Page URL parameters:
//   server   the server's base URL, e.g. http://127.0.0.1:PORT
//   session  the session id
//   user, token       the result of a REST join made elsewhere (the test's), or
//   invite, name      to make the REST join here: POST /api/sessions/{sid}/join
//   label    a name for the reports (default: the user id)
//   report   where to POST reports (default: /report, on the page's own server)
//
// What it does, by SPEC's rules:
// * connects to namespace /video with auth {token} and query sessionId, userId, token;
// * on every (re)connect: join-session, then media-state {audio, video, screen: false}
//   (a rejoining client announces its media anew), then offers by the mesh rule;
// * mesh: of each pair the smaller id (plain string comparison) offers: to everyone in
//   its own join ack, and to everyone in a later participant-joined (those that arrive
//   before its first join ack are ignored: the ack covers them);
// * every connection has exactly three m-sections, audio, video (camera), video (screen),
//   all sendrecv, as offerer and as answerer; the screen section sends nothing;
// * candidates: its own are trickled ({type: "candidate", id, candidate: {candidate,
//   sdpMid, sdpMLineIndex}}, then candidate: null); the peer's are taken from the SDP and
//   from trickle, and kept until the remote description is set;
// * an answer or candidate whose id is not the pair's current offer id is ignored;
//   a new offer for a pair replaces its connection; bye and participant-left close it.
// It POSTs what it receives (per remote peer: frames decoded on the camera and screen
// sections, audio energy and level) as JSON to the report URL twice a second.
"use strict";

const params = new URLSearchParams(location.search);
const SERVER = params.get("server");
const SESSION = params.get("session");
let USER = params.get("user");
let TOKEN = params.get("token");
const INVITE = params.get("invite");
const NAME = params.get("name") || "Browser";
const LABEL = params.get("label") || USER;
const REPORT = params.get("report") || "/report";
const SECTIONS = ["audio", "camera", "screen"];
const KINDS = ["audio", "video", "video"];

const state = {
  label: LABEL,
  me: null,
  connects: 0,
  joins: 0,
  mediaStates: 0,
  connected: false,
  transport: null,
  joinedOnce: false,
  errors: [],
  log: [],
  ignored: { stale: 0, noConnection: 0, badOffer: 0 },
  gathered: { candidate: 0, empty: 0, null: 0 }, // what onicecandidate gave us
  sent: { offer: 0, answer: 0, candidate: 0, endOfCandidates: 0, bye: 0 },
  received: { offer: 0, answer: 0, candidate: 0, endOfCandidates: 0, bye: 0 },
  peers: {},      // pid -> the last stats of the current connection
  closedPeers: [], // pids whose connection was closed (bye / participant-left / replaced)
};

const peers = new Map(); // pid -> Pair
let socket = null;
let localStream = null;

function note(text) {
  const line = `${(performance.now() / 1000).toFixed(2)} ${text}`;
  state.log.push(line);
  if (state.log.length > 400) state.log.shift();
  document.getElementById("log").textContent = state.log.slice(-40).join("\n");
}

function fail(text) {
  state.errors.push(text);
  note("ERROR " + text);
}

function newId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function sendSignal(to, data) {
  if (data.type === "candidate") {
    state.sent[data.candidate === null ? "endOfCandidates" : "candidate"] += 1;
  } else {
    state.sent[data.type] += 1;
  }
  socket.emit("signal", { to, data }, (ack) => {
    if (!ack || ack.error) fail(`signal ${data.type} to ${to}: ${JSON.stringify(ack)}`);
  });
}

function sectionKinds(sdp) {
  return sdp.split(/\r?\n/).filter((l) => l.startsWith("m=")).map((l) => l.slice(2).split(" ")[0]);
}

function directions(sdp) {
  return sdp.split(/\r?\n/)
    .filter((l) => /^a=(sendrecv|sendonly|recvonly|inactive)$/.test(l))
    .map((l) => l.slice(2));
}

// One RTCPeerConnection to one peer, for one offer id.
class Pair {
  constructor(pid, offerId, role) {
    this.pid = pid;
    this.offerId = offerId;
    this.role = role;
    this.remoteSet = false;
    this.described = false;   // our own offer/answer has been sent
    this.ownCandidates = [];  // ours, gathered before our description was sent
    this.theirCandidates = []; // theirs, arrived before their description was set
    this.closed = false;
    this.video = null;
    this.audio = null;
    this.stats = { role, offerId, connectionState: "new", iceConnectionState: "new",
                   camera: { framesDecoded: 0, framesReceived: 0, width: 0, height: 0 },
                   screen: { framesDecoded: 0, framesReceived: 0 },
                   audio: { totalAudioEnergy: 0, audioLevel: 0, maxAudioLevel: 0,
                            totalSamplesReceived: 0, packetsReceived: 0 },
                   candidatesAdded: 0, candidatesInSdp: 0, localDirections: [],
                   remoteDirections: [], localKinds: [], remoteKinds: [], codecs: [] };
    this.pc = new RTCPeerConnection({ iceServers: [] });
    this.pc.onicecandidate = (event) => this.ownCandidate(event.candidate);
    this.pc.onconnectionstatechange = () => {
      this.stats.connectionState = this.pc.connectionState;
      note(`${this.pid}: ${this.pc.connectionState}`);
      if (this.pc.connectionState === "connected") restarts.delete(this.pid);
      if (this.pc.connectionState === "failed") connectionDown(this);
    };
    this.pc.oniceconnectionstatechange = () => {
      this.stats.iceConnectionState = this.pc.iceConnectionState;
    };
    this.pc.ontrack = (event) => this.track(event);
  }

  ownCandidate(candidate) {
    const kind = candidate === null ? "null" : candidate.candidate ? "candidate" : "empty";
    state.gathered[kind] += 1;
    // A null candidate (or an empty one, end of a generation) ends ours.
    const init = candidate && candidate.candidate
      ? { candidate: candidate.candidate, sdpMid: candidate.sdpMid,
          sdpMLineIndex: candidate.sdpMLineIndex }
      : null;
    if (!this.described) {
      this.ownCandidates.push(init);
      return;
    }
    this.sendCandidate(init);
  }

  sendCandidate(init) {
    if (this.closed) return;
    if (init === null && this.endSent) return;
    if (init === null) this.endSent = true;
    sendSignal(this.pid, { type: "candidate", id: this.offerId, candidate: init });
  }

  descriptionSent() {
    this.described = true;
    const transport = this.pc.getTransceivers()[0]?.sender.transport;
    if (transport) {
      transport.onstatechange = () => {
        note(`${this.pid}: DTLS ${transport.state}`);
        if (transport.state === "closed" || transport.state === "failed") connectionDown(this);
      };
    }
    const pending = this.ownCandidates;
    this.ownCandidates = [];
    for (const init of pending) this.sendCandidate(init);
  }

  // The three transceivers of SPEC, in order, sending our microphone and camera.
  addSections() {
    const [audio] = localStream.getAudioTracks();
    const [camera] = localStream.getVideoTracks();
    this.pc.addTransceiver(audio, { direction: "sendrecv", streams: [localStream] });
    this.pc.addTransceiver(camera, { direction: "sendrecv", streams: [localStream] });
    this.pc.addTransceiver("video", { direction: "sendrecv" }); // screen: nothing shared
  }

  // As answerer: the transceivers the offer made, turned sendrecv, with our tracks.
  async useOfferedSections() {
    const transceivers = this.pc.getTransceivers();
    const [audio] = localStream.getAudioTracks();
    const [camera] = localStream.getVideoTracks();
    const tracks = [audio, camera, null];
    for (let i = 0; i < 3; i++) {
      transceivers[i].direction = "sendrecv";
      if (tracks[i]) {
        await transceivers[i].sender.replaceTrack(tracks[i]);
        transceivers[i].sender.setStreams(localStream);
      }
    }
  }

  async offer() {
    this.addSections();
    await this.pc.setLocalDescription(await this.pc.createOffer());
    this.recordLocal();
    sendSignal(this.pid, { type: "offer", sdp: this.pc.localDescription.sdp, id: this.offerId });
    this.descriptionSent();
  }

  async answer(sdp) {
    this.recordRemote(sdp);
    await this.pc.setRemoteDescription({ type: "offer", sdp });
    this.remoteSet = true;
    await this.useOfferedSections();
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    this.recordLocal();
    sendSignal(this.pid, { type: "answer", sdp: this.pc.localDescription.sdp, id: this.offerId });
    this.descriptionSent();
    await this.flushTheirs();
  }

  async accept(sdp) {
    this.recordRemote(sdp);
    await this.pc.setRemoteDescription({ type: "answer", sdp });
    this.remoteSet = true;
    await this.flushTheirs();
  }

  recordLocal() {
    const sdp = this.pc.localDescription.sdp;
    this.stats.localKinds = sectionKinds(sdp);
    this.stats.localDirections = directions(sdp);
  }

  recordRemote(sdp) {
    this.stats.remoteKinds = sectionKinds(sdp);
    this.stats.remoteDirections = directions(sdp);
    this.stats.candidatesInSdp = sdp.split(/\r?\n/).filter((l) => l.startsWith("a=candidate:")).length;
  }

  async candidate(init) {
    if (!this.remoteSet) {
      this.theirCandidates.push(init);
      return;
    }
    await this.addTheirs(init);
  }

  async flushTheirs() {
    const pending = this.theirCandidates;
    this.theirCandidates = [];
    for (const init of pending) await this.addTheirs(init);
  }

  async addTheirs(init) {
    try {
      // null: the end of their candidates (RTCPeerConnection takes it as such).
      await this.pc.addIceCandidate(init === null ? null : init);
      if (init !== null) this.stats.candidatesAdded += 1;
    } catch (error) {
      fail(`${this.pid}: addIceCandidate(${JSON.stringify(init)}): ${error}`);
    }
  }

  section(transceiver) {
    const index = this.pc.getTransceivers().indexOf(transceiver);
    return SECTIONS[index] || `extra-${index}`;
  }

  track(event) {
    const section = this.section(event.transceiver);
    note(`${this.pid}: track ${event.track.kind} on ${section} (mid ${event.transceiver.mid})`);
    const stream = new MediaStream([event.track]);
    if (section === "camera") {
      this.video = document.createElement("video");
      this.video.autoplay = true;
      this.video.muted = true;
      this.video.playsInline = true;
      this.video.title = this.pid;
      this.video.srcObject = stream;
      document.getElementById("remotes").appendChild(this.video);
    } else if (section === "audio") {
      this.audio = document.createElement("audio");
      this.audio.autoplay = true;
      this.audio.srcObject = stream;
      document.getElementById("remotes").appendChild(this.audio);
    }
  }

  async takeStats() {
    if (this.closed) return;
    const transceivers = this.pc.getTransceivers();
    const mids = {};
    transceivers.forEach((t, i) => { if (t.mid !== null) mids[t.mid] = SECTIONS[i]; });
    const report = await this.pc.getStats();
    const codecs = {};
    report.forEach((s) => { if (s.type === "codec") codecs[s.id] = s.mimeType; });
    const used = new Set();
    report.forEach((s) => {
      if (s.type !== "inbound-rtp") return;
      const section = mids[s.mid] || (s.kind === "audio" ? "audio" : null);
      if (s.codecId && codecs[s.codecId]) used.add(codecs[s.codecId]);
      if (section === "audio") {
        const a = this.stats.audio;
        a.totalAudioEnergy = s.totalAudioEnergy || 0;
        a.audioLevel = s.audioLevel || 0;
        a.maxAudioLevel = Math.max(a.maxAudioLevel, a.audioLevel);
        a.totalSamplesReceived = s.totalSamplesReceived || 0;
        a.packetsReceived = s.packetsReceived || 0;
      } else if (section === "camera" || section === "screen") {
        const v = this.stats[section];
        v.framesDecoded = s.framesDecoded || 0;
        v.framesReceived = s.framesReceived || 0;
        v.width = s.frameWidth || 0;
        v.height = s.frameHeight || 0;
      }
    });
    this.stats.codecs = Array.from(used).sort();
    this.stats.connectionState = this.pc.connectionState;
  }

  close(why) {
    if (this.closed) return;
    this.closed = true;
    note(`${this.pid}: connection ${this.offerId.slice(0, 8)} closed (${why})`);
    this.pc.close();
    for (const element of [this.video, this.audio]) {
      if (element) { element.srcObject = null; element.remove(); }
    }
  }

  // Connected, or on its way (both descriptions set, ICE running), and its DTLS
  // transport not closed by the peer (a peer that dropped the pair says so with a
  // DTLS close_notify, which does not change connectionState at once).
  healthy() {
    if (this.closed) return false;
    const transport = this.pc.getTransceivers()[0]?.sender.transport;
    if (transport && (transport.state === "closed" || transport.state === "failed")) return false;
    const s = this.pc.connectionState;
    return s === "connected" || (this.remoteSet && (s === "new" || s === "connecting"));
  }
}

// ------------------------------------------------------------------ the mesh rules

function offersTo(pid) {
  return state.me !== null && state.me < pid; // plain string comparison (SPEC)
}

function drop(pid, why) {
  const pair = peers.get(pid);
  if (!pair) return;
  peers.delete(pid);
  pair.close(why);
  delete state.peers[pid];
  state.closedPeers.push(pid);
}

// The offerer restarts a failed connection with a new offer (SPEC: an offer for a
// pair replaces its connection), after 0.5 s, then doubling up to 15 s.
const restarts = new Map(); // pid -> attempts so far
function connectionDown(pair) {
  if (peers.get(pair.pid) !== pair || !offersTo(pair.pid) || !state.connected) return;
  const attempts = restarts.get(pair.pid) || 0;
  restarts.set(pair.pid, attempts + 1);
  const delay = Math.min(15, 0.5 * 2 ** attempts);
  note(`${pair.pid}: connection ${pair.pc.connectionState}; new offer in ${delay} s`);
  setTimeout(() => enqueue(pair.pid, async () => {
    if (peers.get(pair.pid) === pair && !pair.healthy()) await startOffer(pair.pid, "restart");
  }), delay * 1000);
}

async function startOffer(pid, why) {
  const old = peers.get(pid);
  const pair = new Pair(pid, newId(), "offerer");
  peers.set(pid, pair);
  if (old) old.close("replaced by a new offer");
  note(`offering to ${pid} (${why})`);
  try {
    await pair.offer();
  } catch (error) {
    fail(`offer to ${pid}: ${error}`);
  }
}

async function onOffer(from, data) {
  const kinds = sectionKinds(String(data.sdp));
  if (typeof data.id !== "string" || kinds.join(",") !== KINDS.join(",")) {
    state.ignored.badOffer += 1; // not SPEC's offer: ignored, the pair is kept
    fail(`offer from ${from} with sections ${kinds} (not audio, video, video) or no id`);
    return;
  }
  const old = peers.get(from);
  const pair = new Pair(from, data.id, "answerer");
  peers.set(from, pair); // the pair's current offer id is now this one
  if (old) old.close("replaced by their offer");
  if (offersTo(from)) note(`${from} offered although I offer to it; answering`);
  try {
    await pair.answer(data.sdp);
  } catch (error) {
    fail(`answer to ${from}: ${error}`);
  }
}

async function onSignal(message) {
  const from = message && message.from;
  const data = message && message.data;
  if (typeof from !== "string" || !data || typeof data !== "object") {
    fail(`malformed signal ${JSON.stringify(message).slice(0, 200)}`);
    return;
  }
  const kind = data.type === "candidate" && data.candidate === null ? "endOfCandidates" : data.type;
  if (kind in state.received) state.received[kind] += 1;
  if (data.type === "offer") {
    await onOffer(from, data);
    return;
  }
  if (data.type === "bye") {
    drop(from, "bye");
    return;
  }
  const pair = peers.get(from);
  if (!pair) {
    state.ignored.noConnection += 1;
    note(`${data.type} from ${from} ignored: no connection`);
    return;
  }
  if (data.id !== pair.offerId) {
    state.ignored.stale += 1;
    note(`stale ${data.type} from ${from} ignored (id ${String(data.id).slice(0, 8)})`);
    return;
  }
  if (data.type === "answer") {
    if (pair.role !== "offerer" || pair.remoteSet) {
      note(`answer from ${from} ignored: not waiting for one`);
      return;
    }
    try {
      await pair.accept(data.sdp);
    } catch (error) {
      fail(`answer from ${from}: ${error}`);
    }
  } else if (data.type === "candidate") {
    await pair.candidate(data.candidate);
  } else {
    note(`signal of unknown type ${data.type} from ${from} ignored`);
  }
}

// Signals of one peer are handled one at a time, in order (setRemoteDescription is async).
const queues = new Map();
function enqueue(pid, job) {
  const previous = queues.get(pid) || Promise.resolve();
  const next = previous.then(job).catch((error) => fail(`job for ${pid}: ${error}`));
  queues.set(pid, next);
  return next;
}

async function join() {
  const ack = await socket.emitWithAck("join-session", { sessionId: SESSION });
  if (!ack || ack.error) {
    fail(`join-session: ${JSON.stringify(ack)}`);
    return;
  }
  state.joins += 1;
  state.me = ack.self.id;
  state.joinedOnce = true;
  restarts.clear();
  state.callActive = !ack.call || ack.call.active !== false;
  const listed = new Set(ack.participants.map((p) => p.id).filter((id) => id !== state.me));
  note(`joined as ${state.me}; listed: ${Array.from(listed).join(", ") || "nobody"}`);
  // Decided now, from the ack alone: a participant-joined handled while media-state
  // is on its way is newer than this list and must not be undone by it.
  for (const pid of Array.from(peers.keys())) {
    if (!listed.has(pid)) enqueue(pid, async () => drop(pid, "not listed after a rejoin"));
  }
  for (const pid of listed) {
    if (offersTo(pid)) {
      enqueue(pid, async () => {
        const pair = peers.get(pid);
        if (pair && pair.healthy()) return; // still connected across the reconnect
        await startOffer(pid, "in my join ack");
      });
    }
  }
  const announced = await socket.emitWithAck("media-state", { audio: true, video: true, screen: false });
  if (!announced || announced.error) fail(`media-state: ${JSON.stringify(announced)}`);
  else state.mediaStates += 1;
}

function connect() {
  socket = io(`${SERVER}/video`, {
    auth: { token: TOKEN },
    query: { sessionId: SESSION, userId: USER, token: TOKEN },
  });
  socket.on("connect", () => {
    state.connects += 1;
    state.connected = true;
    state.transport = socket.io.engine.transport.name;
    socket.io.engine.on("upgrade", (t) => { state.transport = t.name; });
    note(`socket connected (${state.transport})`);
    join().catch((error) => fail(`join: ${error}`));
  });
  socket.on("disconnect", (reason) => {
    state.connected = false;
    note(`socket disconnected: ${reason}`);
  });
  socket.on("connect_error", (error) => fail(`connect_error: ${error.message} ${JSON.stringify(error.data)}`));
  socket.on("participant-joined", ({ participant }) => {
    if (!state.joinedOnce || participant.id === state.me) return; // the ack covers it
    note(`participant-joined ${participant.id} (${participant.name})`);
    if (offersTo(participant.id)) {
      enqueue(participant.id, async () => {
        const pair = peers.get(participant.id);
        if (pair && !pair.closed && pair.pc.connectionState !== "failed") return;
        await startOffer(participant.id, "joined later");
      });
    }
  });
  socket.on("participant-left", ({ participantId }) => {
    note(`participant-left ${participantId}`);
    enqueue(participantId, async () => drop(participantId, "participant-left"));
  });
  socket.on("signal", (message) => {
    const from = message && message.from;
    enqueue(typeof from === "string" ? from : "?", () => onSignal(message));
  });
  socket.on("call-moved", ({ call }) => {
    note(`call-moved: active ${call && call.active}`);
    if (call && call.active === false) {
      for (const pid of Array.from(peers.keys())) drop(pid, "the call moved to another window");
    } else {
      join().catch((error) => fail(`join after call-moved: ${error}`));
    }
  });
}

async function report() {
  for (const [pid, pair] of peers) {
    try {
      await pair.takeStats();
    } catch (error) {
      fail(`stats of ${pid}: ${error}`);
    }
    state.peers[pid] = pair.stats;
  }
  document.getElementById("status").textContent =
    `me ${state.me}; peers ${Array.from(peers.keys()).join(", ")}`;
  let answer = null;
  try {
    const response = await fetch(REPORT, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(state),
    });
    if (response.status === 200) answer = await response.json();
  } catch (error) {
    return; // the test's server is gone: nothing to tell
  }
  // The test may ask for a network blip: the transport closes under the socket, as
  // when a network goes away, and socket.io-client reconnects by itself.
  if (answer && answer.drop && socket && socket.io.engine) {
    note("dropping the transport (asked by the test)");
    socket.io.engine.close();
  }
}

async function main() {
  document.getElementById("title").textContent = `Browser participant ${LABEL}`;
  if (typeof io !== "function") {
    fail("socket.io-client did not load");
    await report();
    return;
  }
  try {
    localStream = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } },
    });
  } catch (error) {
    fail(`getUserMedia: ${error}`);
    await report();
    return;
  }
  if (!TOKEN) {
    // SPEC's REST join, from this page (another origin than the server: CORS).
    try {
      const response = await fetch(`${SERVER}/api/sessions/${encodeURIComponent(SESSION)}/join`, {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ name: NAME, invite: INVITE }),
      });
      const body = await response.json();
      if (response.status !== 200) throw new Error(`${response.status} ${JSON.stringify(body)}`);
      USER = body.userId;
      TOKEN = body.token;
      state.restJoined = USER;
    } catch (error) {
      fail(`REST join: ${error}`);
      await report();
      return;
    }
  }
  const preview = document.createElement("video");
  preview.muted = true;
  preview.autoplay = true;
  preview.srcObject = localStream;
  document.getElementById("local").appendChild(preview);
  connect();
  setInterval(report, 500);
}

main();
