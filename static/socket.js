// RunSocket is a WebSocket to /ws/run (its protocol is the comment at the
// top of web/ws.go), and the source of runs a player mounts on. It
// connects on the first send, reconnects on the next send after a close,
// and queues what is sent while connecting. Creating one opens nothing.
//
// Anything with the same two methods is a source of runs too:
//
//   send(msg)                     a client message of the protocol, as an object
//   listen(onMessage, onState)    onMessage(serverMsg) for each message,
//                                 onState("open" | "closed") as the
//                                 connection changes; returns a function
//                                 that stops listening

export class RunSocket {
  /** @param path the socket's path on this page's host (default /ws/run). */
  constructor(path = "/ws/run") {
    this.path = path;
    this.listeners = new Set();
    this.queue = [];
    this.ws = null;
  }

  /** listen calls onMessage with each parsed server message and onState on open and close. */
  listen(onMessage, onState = () => {}) {
    const l = { onMessage, onState };
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  connect() {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${this.path}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      for (const l of this.listeners) l.onState("open");
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
    ws.addEventListener("close", () => {
      if (this.ws === ws) this.ws = null;
      for (const l of this.listeners) l.onState("closed");
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
    if (!this.ws) this.connect();
  }

  /** close closes the connection, if any; a later send opens a new one. */
  close() {
    this.ws?.close();
  }
}
