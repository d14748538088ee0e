package sim

// Design is one way to build the payment flow: the code the client runs
// (when it matters), the code the payment service runs per request, the
// outbox relay's loop (if any), and the downstream consumer. It is written
// as straight-line Go against the simulator's APIs, the way the handbook
// writes it, in a design_*.go file.
type Design struct {
	// Name is the design's stable name in the CLI, URLs and JSON.
	Name string
	// Summary says in one line what the design does and where it breaks.
	Summary string
	// Handle is the payment service's request handler.
	Handle func(s *Service, pay Payment) error
	// Relay is the outbox relay's loop; nil when the design has none.
	Relay func(r *Relay)
	// Consume is the ledger's handler for one delivered message.
	Consume func(c *Consumer, m Message) error
	// Client is the client's code, for designs where what the client does
	// is the point (retries); nil means the client sends each payment once.
	Client func(c *Client, pay Payment)
	// Writer is the code that changes what the service decides on, run on
	// the service when an order arrives from elsewhere (the AML team
	// freezing an account in the cache designs); nil for most designs.
	Writer func(s *Service, account string) error

	// The fields below come from the design's family (see families.go).

	// Nodes lists the lanes this design's runs use, left to right.
	Nodes []string
	// Metrics lists the report keys this design's runs count, in the order
	// the UI shows them as counters.
	Metrics []string
	// Invariants lists the violation keys (a subset of Metrics) the checker
	// measures for this design; each has a first_violation entry when broken.
	Invariants []string
	// Situations lists the report keys (after the metrics in a report) that
	// count how often the run put the design in a situation a checklist
	// item guards against, or ran a part a design may lack; they are not
	// counters (see family.situations).
	Situations []string
	// Faults lists, in canonical order, the faults that can fire in this
	// design's runs; the others have nothing to act on (a design with no
	// bus has no publish to fail), so the UI can say so instead of leaving
	// a learner to wonder why a slider did nothing.
	Faults []Fault
	// Databases lists the databases this design's runs keep, in lane
	// order, each with starter queries for the Tables panel.
	Databases []DatabaseInfo

	family *family
}

// DatabaseInfo is one database a design's runs keep: its name, as the
// Tables panel and sandbox.Inspect know it, and queries worth asking of it.
type DatabaseInfo struct {
	Name     string    `json:"name"`
	Starters []Starter `json:"starters"`
}

// Starter is a query worth asking of one database after a run: what the
// checker compares, asked of one node at a time.
type Starter struct {
	// Label says in a few words what the query finds.
	Label string `json:"label"`
	// SQL is one read-only statement.
	SQL string `json:"sql"`
}

// family is what a group of designs shares besides their code: the lanes
// and counters, the nodes and databases they run on, the client that sends
// each payment, and the checker that compares the places holding state.
// Designs of one family differ only in their code, so a side-by-side run
// compares just that. Each family lives in its own family_*.go file and
// keeps its state there; the engine (engine_*.go) knows none of them.
type family struct {
	// nodes lists the lanes, left to right.
	nodes []string
	// metrics lists the report keys the family counts, in the order the
	// UI shows them; invariants are the violation keys among them.
	metrics, invariants []string
	// reportKeys are the keys its checker counts beyond the fields every
	// Report has, in the order the report prints them, each with what it
	// counts; every one is also in metrics.
	reportKeys []reportKey
	// situations are the keys its checker counts of what happened to the
	// designs rather than what they did: how often the run put a design in
	// the situation a checklist item guards against (a duplicate delivery
	// reached the consumer, a fault fell between two writes), or how often
	// a part ran that a design may not have (a relay's polls). They are
	// measured the same way for every design of the family, so a zero
	// means the situation never arose or the part is absent. The report
	// prints them after reportKeys, in this order; they are not counters
	// in the UI (not in metrics), and no event moves them.
	situations []reportKey
	// faults lists, in canonical order, the faults its topology can meet;
	// crash.relay only counts for a design that has a relay.
	faults []Fault
	// databases lists the databases open sets up, in lane order.
	databases []DatabaseInfo
	// open builds the family's topology in w for design d, appending its
	// nodes and databases to w.nodes and w.dbs, and returns the run's own
	// state.
	open func(w *world, d *Design) (familyRun, error)
}

// familyRun is one run of a family: its nodes, databases and what its
// checker follows.
type familyRun interface {
	// request starts payment pay of the workload.
	request(pay Payment)
	// start starts what runs beside the workload (a relay, a link's
	// partition schedule), once the first request is scheduled.
	start()
	// check counts the family's report keys, from its databases and from
	// what its events moved, and marks the evidence events: each the event
	// that caused a violation where the family can tell, with a note
	// saying how it led to the violation.
	check(r *Report, mark func(ev int, key, note string)) error
}
