// RunSocket is the page's one WebSocket to /ws/run. It reconnects on the
// next send after a close, and queues what is sent while connecting.

export class RunSocket {
  /** @param onMessage called with each parsed server message; onState with "open" or "closed". */
  constructor(onMessage, onState) {
    this.onMessage = onMessage;
    this.onState = onState;
    this.queue = [];
    this.ws = null;
  }

  connect() {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/run`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.onState("open");
      for (const m of this.queue.splice(0)) ws.send(m);
    });
    ws.addEventListener("message", (e) => {
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      this.onMessage(msg);
    });
    ws.addEventListener("close", () => {
      if (this.ws === ws) this.ws = null;
      this.onState("closed");
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
}
