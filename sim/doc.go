// Package sim is Partial Truth's deterministic simulator: a payment system
// whose state lives in more than one place (a service and its database, a
// message bus, a ledger, …), run message by message under the faults a
// scenario asks for, and a checker that compares the places holding state
// afterwards.
//
// # Determinism
//
// A run is a pure function of its Scenario: the same scenario gives the
// same events and the same Report, byte for byte, on any machine. Time is
// virtual (a clock that moves only when the next item is taken off a queue
// ordered by time and sequence); nothing reads the wall clock, draws from
// a global random source or lets map order reach the output. Design code
// runs as simulated processes, coroutines of which exactly one runs at a
// time, that yield at every simulator call: that is where virtual time
// passes and where a crash can strike.
//
// # Keyed faults
//
// Every random decision is a function of the seed and of what it is about,
// never a draw from a shared stream: whether payment 17's first publish
// fails depends on (seed, bus.publish.fail, payment 17, attempt 1) alone.
// Two designs run on one seed therefore meet the same faults at the same
// business steps, which is what makes a side-by-side comparison fair, and
// turning one fault on never moves another.
//
// # Families and designs
//
// A design (design_*.go) is straight-line Go against the roles it plays
// (Client, Service, Relay, Consumer) and their DB, Tx and Bus; the
// playground shows these files as the code that runs. Designs that differ
// only in their code form a family (family_*.go): its lanes, nodes and
// databases, its report keys and faults, the per-payment evidence it
// follows and its checker. The engine (engine_*.go: queue, world,
// processes, network, databases, bus) knows no family; families.go
// registers each family with its designs, one line each.
//
// # Events and reports
//
// Run hands every Event to a sink as it happens; Record collects them with
// each evidence event marked by the violation it shows. Each event names
// the report keys it moves (Event.Moves), so a viewer keeps every counter
// live by adding, and the sums equal the Report's counts.
package sim
