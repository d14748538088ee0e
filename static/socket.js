// RunSocket is a WebSocket to /ws/run (its protocol is the comment at the
// top of web/ws.go), and the source of runs a player mounts on. It
// connects on the first send and queues what is sent while connecting.
// Creating one opens nothing.
//
// A connection that drops after it was open is opened again on its own,
// after 0.5 s, then 1, 2, 4 and 8 s, then every 15 s, each wait a little
// shorter or longer at random so that a restarted server is not met by
// every page at once. A send while waiting tries at once. The listeners
// hear about each step, and a player re-sends its run when the socket is
// back (the server keeps no run for a socket that went away).
//
// Anything with the same two methods is a source of runs too:
//
//   send(msg)                     a client message of the protocol, as an object
//   listen(onMessage, onState)    onMessage(serverMsg) for each message,
//                                 onState(state, info) as the connection
//                                 changes; returns a function that stops
//                                 listening
//
// The states: "open"; "retrying" (info.inMs: the wait before the next
// try, info.since: Date.now() when the connection dropped, info.serverLeft:
// the server closed it on purpose, as it does when it stops); "closed" (by
// close(), or before it was ever open: nothing is retried).

/** RETRY_MS are the waits before each try to reconnect; the last repeats. */
export const RETRY_MS = [500, 1000, 2000, 4000, 8000, 15000];

export class RunSocket {
  /** @param path the socket's path on this page's host (default /ws/run). */
  constructor(path = "/ws/run") {
    this.path = path;
    this.listeners = new Set();
    this.queue = [];
    this.ws = null;
    this.tries = 0; // failed tries since the connection dropped
    this.since = 0; // when it dropped, 0 while it is up
    this.timer = 0;
    this.everOpen = false;
    this.onOnline = () => this.retrying() && this.connect();
    window.addEventListener("online", this.onOnline);
  }

  /** listen calls onMessage with each parsed server message and onState as the connection changes. */
  listen(onMessage, onState = () => {}) {
    const l = { onMessage, onState };
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  tell(state, info = {}) {
    for (const l of this.listeners) l.onState(state, info);
  }

  retrying() {
    return this.since > 0 && !this.ws;
  }

  connect() {
    clearTimeout(this.timer);
    this.timer = 0;
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${this.path}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.everOpen = true;
      this.tries = 0;
      this.since = 0;
      this.tell("open");
      for (const m of this.queue.splice(0)) ws.send(m);
    });
    ws.addEventListener("message", (e) => {
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      for (const l of this.listeners) l.onMessage(msg);
    });
    ws.addEventListener("close", (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.closed || !this.everOpen) {
        this.tell("closed");
        return;
      }
      if (!this.since) this.since = Date.now();
      const base = RETRY_MS[Math.min(this.tries, RETRY_MS.length - 1)];
      const inMs = Math.round(base * (0.8 + 0.4 * Math.random()));
      this.tries++;
      this.timer = setTimeout(() => this.connect(), inMs);
      // 1001 is a server going away (a restart, say), not a network fault.
      this.tell("retrying", { inMs, since: this.since, tries: this.tries, serverLeft: e.code === 1001 });
    });
  }

  /** send delivers msg (an object) now, or once the socket is open. */
  send(msg) {
    const data = JSON.stringify(msg);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(data);
      return;
    }
    this.queue.push(data);
    this.closed = false;
    if (!this.ws) this.connect();
  }

  /** close closes the connection, if any, and retries nothing; a later send opens a new one. */
  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.ws?.close();
  }
}
