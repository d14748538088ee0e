// Side is one design's run as it streams in. It keeps every event it was
// sent and, per event, the running value of each counter, so that showing
// the run at any cursor (playing, stepping back, scrubbing) is a lookup,
// not a recount.

const DB_KINDS = new Set(["begin", "exec", "query", "commit", "rollback", "commit-err"]);

/** isDB says whether an event happened on a database lane. */
export const isDB = (ev) => DB_KINDS.has(ev.kind);

// RULES count a report key from single events, for the keys whose meaning
// maps onto event kinds one to one. Violation keys need no rule: the checker
// marks one event per violation it counts. A key with neither is shown only
// once the report arrives.
const RULES = {
  published: (ev) => ev.node === "bus" && ev.kind === "publish",
  delivered: (ev, side) => ev.node === side.consumer && ev.peer === "bus" && (ev.kind === "deliver" || ev.kind === "duplicate"),
  ledger_entries: (ev) => ev.node === "ledger" && ev.kind === "effect",
  charges: (ev) => ev.node === "service.db" && ev.kind === "effect",
  retries: (ev) => ev.node === "client" && ev.kind === "retry",
  declined: (ev) => ev.kind === "decline",
  rejected: (ev) => ev.kind === "reject",
  ignored: (ev) => ev.kind === "ignore",
};

// PER_PAYMENT are the rules that count payments, not events: both regions
// may decline the same payment, and it is one declined payment.
const PER_PAYMENT = new Set(["declined", "rejected"]);

export class Side {
  /** @param meta one entry of the server's meta.runs */
  constructor(meta) {
    this.meta = meta;
    this.keys = meta.metrics || [];
    this.invariants = new Set(meta.invariants || []);
    // The consumer is the lane right after the bus (ledger, orders, …).
    const bus = (meta.nodes || []).indexOf("bus");
    this.consumer = bus >= 0 ? meta.nodes[bus + 1] : "";
    this.index = new Map(this.keys.map((k, i) => [k, i]));
    this.countable = new Set(this.keys.filter((k) => this.invariants.has(k) || k in RULES || k === "committed"));
    this.width = Math.max(1, this.keys.length);
    this.events = [];
    this.atUs = [];
    this.shown = 0;
    this.report = null;
    this.totals = new Int32Array(1024 * this.width);
    this.acc = new Int32Array(this.width);
    this.open = []; // payments inserted by service.db's open transaction
    this.saved = new Set(); // payments committed to service.db
    this.seenPayments = new Map(); // PER_PAYMENT key → payments already counted
    this.firstSeen = {}; // violation key → first event id carrying it
    this.effects = new Map(); // send event id → indexes of its deliveries and drops
  }

  /** add appends a batch of events, in order, updating the running counts. */
  add(batch) {
    for (const ev of batch) this.push(ev);
  }

  push(ev) {
    const a = this.acc;
    for (const [key, i] of this.index) {
      if (!RULES[key]?.(ev, this)) continue;
      if (PER_PAYMENT.has(key)) {
        const seen = this.seenPayments.get(key) || new Set();
        this.seenPayments.set(key, seen);
        if (seen.has(ev.payment)) continue;
        seen.add(ev.payment);
      }
      a[i]++;
    }
    if (ev.node === "service.db" && this.index.has("committed")) this.countCommitted(ev);
    if (ev.violation) {
      if (this.index.has(ev.violation)) a[this.index.get(ev.violation)]++;
      if (!(ev.violation in this.firstSeen)) this.firstSeen[ev.violation] = ev.id;
    }
    const i = this.events.length;
    const w = this.width;
    if ((i + 1) * w > this.totals.length) {
      const t = new Int32Array(this.totals.length * 2);
      t.set(this.totals);
      this.totals = t;
    }
    this.totals.set(a, i * w);
    this.events.push(ev);
    this.atUs.push(ev.at_us);
    if (ev.cause) {
      const list = this.effects.get(ev.cause);
      if (list) list.push(i);
      else this.effects.set(ev.cause, [i]);
    }
  }

  // countCommitted follows service.db's transactions: a payment counts as
  // committed when the transaction that inserted it commits. The simulator
  // runs one transaction per database at a time, so one open list suffices.
  countCommitted(ev) {
    switch (ev.kind) {
      case "begin":
        this.open = [];
        break;
      case "exec":
        if (/^\s*INSERT INTO payments\b/i.test(ev.sql || "")) this.open.push(ev.payment);
        break;
      case "commit":
        for (const p of this.open) {
          if (!this.saved.has(p)) {
            this.saved.add(p);
            this.acc[this.index.get("committed")]++;
          }
        }
        this.open = [];
        break;
      case "rollback":
      case "commit-err":
        this.open = [];
        break;
    }
  }

  /** total is the number of events the run has (from meta), received or not. */
  get total() {
    return this.meta.events;
  }

  /** finished says whether every event of the run is shown. */
  get finished() {
    return this.shown >= this.total && this.events.length >= this.total;
  }

  /**
   * value is key's count after the first n events (default: those shown):
   * the report's exact value once the whole run is shown, else counted
   * from the events; null when the events alone cannot tell.
   */
  value(key, n = this.shown) {
    n = Math.min(n, this.events.length);
    if (this.report && n >= this.total && key in this.report) return this.report[key];
    return this.counted(key, n);
  }

  /** counted is key's count from the first n events alone (never the report), or null. */
  counted(key, n = this.shown) {
    if (!this.countable.has(key)) return null;
    n = Math.min(n, this.events.length);
    if (n <= 0) return 0;
    return this.totals[(n - 1) * this.width + this.index.get(key)];
  }

  /** countAt is key's count over the shown events up to virtual time us (0 if not countable). */
  countAt(key, us) {
    const n = this.indexAt(us) + 1;
    return this.counted(key, n) ?? 0;
  }

  /** indexAt is the index of the last shown event at or before us, or -1. */
  indexAt(us) {
    let lo = 0;
    let hi = Math.min(this.shown, this.events.length) - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.atUs[mid] <= us) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** firstViolation is the id of the first event evidencing key, or 0. */
  firstViolation(key) {
    return this.report?.first_violation?.[key] || this.firstSeen[key] || 0;
  }

  /** byId returns the event with this id (ids run from 1), if received. */
  byId(id) {
    return this.events[id - 1];
  }

  /** nowUs is the virtual time of the last shown event. */
  get nowUs() {
    const n = Math.min(this.shown, this.events.length);
    return n > 0 ? this.atUs[n - 1] : 0;
  }
}
