// Side is one design's run as it streams in. It keeps every event it was
// sent and, per event, the running value of each counter, so that showing
// the run at any cursor (playing, stepping back, scrubbing) is a lookup,
// not a recount.

/** KEYS are the report keys a Side can count from events. */
export const KEYS = ["committed", "published", "delivered", "ledger_entries", "lost", "phantom", "duplicate_effects"];

/** VIOLATIONS are the report keys that count broken invariants. */
export const VIOLATIONS = ["lost", "phantom", "duplicate_effects"];

const K = Object.fromEntries(KEYS.map((k, i) => [k, i]));
const N = KEYS.length;
const DB_KINDS = new Set(["begin", "exec", "query", "commit", "rollback", "commit-err"]);

/** isDB says whether an event happened on a database lane. */
export const isDB = (ev) => DB_KINDS.has(ev.kind);

export class Side {
  /** @param meta one entry of the server's meta.runs */
  constructor(meta) {
    this.meta = meta;
    this.events = [];
    this.atUs = [];
    this.shown = 0;
    this.report = null;
    this.totals = new Int32Array(1024 * N);
    this.acc = new Int32Array(N);
    this.open = new Map(); // database lane → payments inserted by its open transaction
    this.saved = new Set(); // payments committed to service.db
    this.firstSeen = {}; // violation key → first event id carrying it
    this.effects = new Map(); // send event id → indexes of its deliveries and drops
  }

  /** add appends a batch of events, in order, updating the running counts. */
  add(batch) {
    for (const ev of batch) this.push(ev);
  }

  push(ev) {
    const a = this.acc;
    if (ev.node === "service.db") this.countServiceDB(ev);
    else if (ev.node === "bus" && ev.kind === "publish") a[K.published]++;
    else if (ev.node === "ledger" && (ev.kind === "deliver" || ev.kind === "duplicate") && ev.peer === "bus") a[K.delivered]++;
    else if (ev.node === "ledger" && ev.kind === "effect") a[K.ledger_entries]++;
    if (ev.violation && ev.violation in K) {
      a[K[ev.violation]]++;
      if (!(ev.violation in this.firstSeen)) this.firstSeen[ev.violation] = ev.id;
    }
    const i = this.events.length;
    if ((i + 1) * N > this.totals.length) {
      const t = new Int32Array(this.totals.length * 2);
      t.set(this.totals);
      this.totals = t;
    }
    this.totals.set(a, i * N);
    this.events.push(ev);
    this.atUs.push(ev.at_us);
    if (ev.cause) {
      const list = this.effects.get(ev.cause);
      if (list) list.push(i);
      else this.effects.set(ev.cause, [i]);
    }
  }

  // countServiceDB follows service.db's transactions: a payment counts as
  // committed when the transaction that inserted it commits. The simulator
  // runs one transaction per database at a time, so one open list suffices.
  countServiceDB(ev) {
    switch (ev.kind) {
      case "begin":
        this.open.set(ev.node, []);
        break;
      case "exec":
        if (/^\s*INSERT INTO payments\b/i.test(ev.sql || "")) {
          const list = this.open.get(ev.node);
          if (list) list.push(ev.payment);
        }
        break;
      case "commit":
        for (const p of this.open.get(ev.node) || []) {
          if (!this.saved.has(p)) {
            this.saved.add(p);
            this.acc[K.committed]++;
          }
        }
        this.open.delete(ev.node);
        break;
      case "rollback":
      case "commit-err":
        this.open.delete(ev.node);
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
   * the report's exact value once the whole run is shown, else counted.
   */
  value(key, n = this.shown) {
    n = Math.min(n, this.events.length);
    if (this.report && n >= this.total && key in this.report) return this.report[key];
    return this.counted(key, n);
  }

  /** counted is key's count from the first n events alone, never from the report. */
  counted(key, n = this.shown) {
    n = Math.min(n, this.events.length);
    if (!(key in K) || n <= 0) return 0;
    return this.totals[(n - 1) * N + K[key]];
  }

  /** countAt is key's count over the shown events up to virtual time us. */
  countAt(key, us) {
    const n = this.indexAt(us) + 1;
    if (!(key in K) || n <= 0) return 0;
    return this.totals[(n - 1) * N + K[key]];
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
