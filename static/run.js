// Side is one design's run as it streams in. It keeps every event it was
// sent and, per event, the running value of each counter, so that showing
// the run at any cursor (playing, stepping back, scrubbing) is a lookup,
// not a recount.
//
// The counts come from the simulator: each event lists the report keys it
// adds one to ("moves"), and an event that is the evidence of a violation
// names that key ("violation"). Summed up to any event they are the
// report's counts at that point, and over the whole run exactly the report,
// so this module knows no node, event kind or table of any design.

const DB_KINDS = new Set(["begin", "exec", "query", "commit", "rollback", "commit-err"]);

/** isDB says whether an event happened on a database lane. */
export const isDB = (ev) => DB_KINDS.has(ev.kind);

export class Side {
  /** @param meta one entry of the server's meta.runs */
  constructor(meta) {
    this.meta = meta;
    this.keys = meta.metrics || [];
    this.invariants = new Set(meta.invariants || []);
    this.index = new Map(this.keys.map((k, i) => [k, i]));
    this.width = Math.max(1, this.keys.length);
    this.events = [];
    this.atUs = [];
    this.shown = 0;
    this.report = null;
    this.totals = new Int32Array(1024 * this.width);
    this.acc = new Int32Array(this.width);
    this.firstSeen = {}; // violation key → first event id carrying it
    this.effects = new Map(); // send event id → indexes of its deliveries and drops
  }

  /** add appends a batch of events, in order, updating the running counts. */
  add(batch) {
    for (const ev of batch) this.push(ev);
  }

  push(ev) {
    const a = this.acc;
    for (const key of ev.moves || []) {
      const k = this.index.get(key);
      if (k !== undefined) a[k]++;
    }
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
   * the report's value once the whole run is shown, else added up from
   * the events; null for a key the design does not measure.
   */
  value(key, n = this.shown) {
    n = Math.min(n, this.events.length);
    if (this.report && n >= this.total && key in this.report) return this.report[key];
    return this.counted(key, n);
  }

  /** counted is key's count from the first n events alone (never the report), or null for a key the design does not measure. */
  counted(key, n = this.shown) {
    if (!this.index.has(key)) return null;
    n = Math.min(n, this.events.length);
    if (n <= 0) return 0;
    return this.totals[(n - 1) * this.width + this.index.get(key)];
  }

  /** countAt is key's count over the shown events up to virtual time us (0 for a key the design does not measure). */
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
