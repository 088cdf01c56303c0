// The reference point of bench/bench_fanout_node.py: a minimal Express + Socket.IO 4
// server that speaks the parts of the wire contract the fan-out harness uses.
//
//   node bench/node_broadcaster.js --data-dir DIR     (prints "listening on URL")
//
// Its packages (express, socket.io 4, multer) are installed by the bench with
// `npm install --prefix PREFIX`, outside the repo; NODE_PATH points there.
//
// What it does per upload, like the reference server: check the bearer token,
// stream the multipart field `file` to a temp file in DIR, rename it into
// DIR/files/<id>, bump the meeting's revision by one, emit `resource-uploaded`
// {resource, revision} to the room `session:<sid>` of `/video`, answer 201. What it
// leaves out: a database (the revision and the list are kept in memory), signed
// tokens (random ones in a map), limits, and every other event. Socket.IO's own
// defaults (no per-message deflate, websocket and polling).
//
// GET /bench/emits?sessionId=S answers [[revision, t], ...], t = the monotonic clock
// (process.hrtime, CLOCK_MONOTONIC on Linux: the clock of Python's perf_counter)
// right before each emit, as bench/_server.py records for the reference server.
// GET /bench/clock answers that clock now, so the bench can check the two agree.
"use strict";

const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");

const express = require("express");
const multer = require("multer");
const { Server } = require("socket.io");

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const dataDir = arg("--data-dir");
if (!dataDir) {
  console.error("--data-dir is required");
  process.exit(2);
}
const tmpDir = path.join(dataDir, "tmp");
const filesDir = path.join(dataDir, "files");
fs.mkdirSync(tmpDir, { recursive: true });
fs.mkdirSync(filesDir, { recursive: true });

const now = () => Number(process.hrtime.bigint()) / 1e9;
const newId = () => crypto.randomBytes(16).toString("hex");

const sessions = new Map(); // id -> {id, title, invite, revision, resources: [], emits: []}
const tokens = new Map(); // token -> {sessionId, userId, name, role}

function issue(session, name, role) {
  const userId = newId();
  const token = crypto.randomBytes(24).toString("base64url");
  tokens.set(token, { sessionId: session.id, userId, name, role });
  return { userId, token };
}

function error(res, status, code, message) {
  res.status(status).json({ error: { code, message } });
}

function identity(req, res) {
  const header = req.get("authorization") || "";
  const who = tokens.get(header.replace(/^Bearer /, ""));
  if (!who) {
    error(res, 401, "unauthorized", "A valid token is required");
    return null;
  }
  if (who.sessionId !== req.params.sid) {
    error(res, 403, "forbidden", "This token does not open that meeting");
    return null;
  }
  return who;
}

const app = express();
app.use(express.json({ limit: "1mb" }));
const upload = multer({ dest: tmpDir, limits: { fileSize: 512 * 1024 * 1024, files: 1 } });

app.post("/api/sessions", (req, res) => {
  const { title, name } = req.body || {};
  const session = {
    id: newId(), title: String(title || "Meeting"), invite: crypto.randomBytes(8).toString("hex"),
    revision: 0, resources: [], emits: [],
  };
  sessions.set(session.id, session);
  const { userId, token } = issue(session, String(name || "Host"), "host");
  res.status(201).json({
    session: { id: session.id, title: session.title }, userId, token, invite: session.invite,
  });
});

app.post("/api/sessions/:sid/join", (req, res) => {
  const session = sessions.get(req.params.sid);
  if (!session) return error(res, 404, "not_found", "No such meeting");
  const { name, invite } = req.body || {};
  if (invite !== session.invite) return error(res, 403, "forbidden", "Wrong invite code");
  const { userId, token } = issue(session, String(name || "Guest"), "participant");
  res.json({ session: { id: session.id, title: session.title }, userId, token });
});

app.get("/api/sessions/:sid/resources", (req, res) => {
  if (!identity(req, res)) return;
  const session = sessions.get(req.params.sid);
  res.json({ revision: session.revision, resources: session.resources });
});

app.post("/api/sessions/:sid/resources", (req, res, next) => {
  const who = identity(req, res);
  if (!who) return;
  upload.single("file")(req, res, (err) => {
    if (err) return next(err);
    if (!req.file) return error(res, 400, "bad_request", "The field 'file' is missing");
    const session = sessions.get(req.params.sid);
    const id = newId();
    fs.rename(req.file.path, path.join(filesDir, id), (renameErr) => {
      if (renameErr) return next(renameErr);
      session.revision += 1;
      const resource = {
        id, sessionId: session.id, name: req.file.originalname, size: req.file.size,
        contentType: req.file.mimetype || "application/octet-stream",
        uploadedBy: { id: who.userId, name: who.name }, uploadedAt: new Date().toISOString(),
      };
      session.resources.unshift(resource);
      const revision = session.revision;
      session.emits.push([revision, now()]);
      video.to(`session:${session.id}`).emit("resource-uploaded", { resource, revision });
      res.status(201).json({ resource, revision });
    });
  });
});

app.get("/bench/emits", (req, res) => {
  const session = sessions.get(String(req.query.sessionId));
  res.json(session ? session.emits : []);
});

app.get("/bench/clock", (_req, res) => res.json({ now: now() }));

const server = http.createServer(app);
const io = new Server(server, { serveClient: false });
const video = io.of("/video");

video.use((socket, next) => {
  const token = (socket.handshake.auth && socket.handshake.auth.token) || socket.handshake.query.token;
  const who = tokens.get(String(token || ""));
  if (!who) {
    const err = new Error("A valid token is required");
    err.data = { code: "unauthorized", message: err.message };
    return next(err);
  }
  socket.data.who = who;
  next();
});

video.on("connection", (socket) => {
  socket.on("join-session", (payload, ack) => {
    const who = socket.data.who;
    const session = sessions.get(who.sessionId);
    if (!payload || payload.sessionId !== who.sessionId || !session) {
      if (typeof ack === "function") ack({ error: { code: "forbidden", message: "Not yours" } });
      return;
    }
    socket.join(`session:${session.id}`);
    const self = {
      id: who.userId, name: who.name, role: who.role, handRaised: false,
      media: { audio: false, video: false, screen: false },
    };
    if (typeof ack === "function") {
      ack({ self, participants: [self], resourceRevision: session.revision, polls: [] });
    }
  });
});

server.listen(Number(arg("--port", "0")), arg("--host", "127.0.0.1"), () => {
  const { address, port } = server.address();
  console.log(`listening on http://${address}:${port}`);
});

function stop() {
  io.close();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
