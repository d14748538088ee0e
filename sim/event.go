package sim

// Node names every family's lanes use: one lane each in the sequence
// diagram. A database is a node of its own so that every SQL statement
// shows where it ran. Each family names its other nodes in its own file.
const (
	NodeClient    = "client"
	NodeService   = "service"
	NodeServiceDB = "service.db"
	NodeBus       = "bus"
)

// Event kinds. Each step of a run is one event of one of these kinds.
const (
	KindRequest   = "request"    // a client sends a payment request
	KindResponse  = "response"   // a client receives the service's answer
	KindSend      = "send"       // a message leaves a node (Peer is the receiver)
	KindDeliver   = "deliver"    // a message arrives (Cause is its send)
	KindDrop      = "drop"       // the network lost a message (Cause is its send)
	KindDuplicate = "duplicate"  // the network delivers a message a second time
	KindDown      = "down"       // a message reached a node that had crashed
	KindTimeout   = "timeout"    // a caller stopped waiting for an answer
	KindBegin     = "begin"      // BEGIN on a database
	KindExec      = "exec"       // a statement inside a transaction or on its own
	KindQuery     = "query"      // a read
	KindCommit    = "commit"     // COMMIT succeeded
	KindRollback  = "rollback"   // ROLLBACK, asked for or forced by a crash
	KindCommitErr = "commit-err" // COMMIT failed (db.fail): rolled back
	KindPublish   = "publish"    // the broker stored a message
	KindPubFail   = "publish-fail"
	KindAck       = "ack"      // a publisher or the broker got its acknowledgement
	KindAckLost   = "ack-lost" // the broker's acknowledgement was lost
	KindRedeliver = "redeliver"
	KindCrash     = "crash"
	KindRestart   = "restart"
	KindEffect    = "effect"     // the ledger posted an entry (a money movement)
	KindDedupSkip = "dedup-skip" // the consumer saw an event it had processed
	KindError     = "error"      // a step returned an error to the design
	KindRetry     = "retry"      // a design retries after backing off
	KindPoll      = "poll"       // the relay looked for unsent outbox rows
	KindDecline   = "decline"    // a business rule refused a request (limit, funds)
	KindReject    = "reject"     // a request refused for lack of consistency
	KindReplicate = "replicate"  // a copy applied a change made elsewhere
	KindPartition = "partition"  // the link between two regions broke
	KindHeal      = "heal"       // the link between two regions works again
	KindIgnore    = "ignore"     // a consumer ignored an event older than its state
	KindAlert     = "alert"      // a person was paged (a message dead-lettered)
)

// Event is one step of a run. Field names are part of the JSON contract:
// `run -events`, the WebSocket stream and the UI all read them.
type Event struct {
	// ID is the event's position in the run, from 1.
	ID int `json:"id"`
	// AtUs is the virtual time in microseconds since the run started.
	AtUs int64 `json:"at_us"`
	// Node is the lane the event happens on (see Design.Nodes).
	Node string `json:"node"`
	// Kind says what happened (see the Kind constants).
	Kind string `json:"kind"`
	// Payment is the payment this step is about, 0 for none.
	Payment int `json:"payment,omitempty"`
	// Msg identifies a network message across its send, deliver or drop.
	Msg int `json:"msg,omitempty"`
	// Peer is the other node of a message or of a database call.
	Peer string `json:"peer,omitempty"`
	// Cause is the id of the event this one answers: a delivery's send.
	Cause int `json:"cause,omitempty"`
	// Fault names the injected fault behind this event, if any.
	Fault string `json:"fault,omitempty"`
	// SQL is the statement this step ran.
	SQL string `json:"sql,omitempty"`
	// Args are the values bound to SQL's placeholders.
	Args []any `json:"args,omitempty"`
	// Note says in a few words what happened.
	Note string `json:"note"`
	// Violation is the report key this event is the evidence for
	// ("lost", "phantom", "duplicate_effects", "double_charges", …); set
	// by the checker.
	Violation string `json:"violation,omitempty"`
	// Moves lists the report keys this event adds one to ("committed",
	// "published", "delivered", "accepted", "applied", …), a key twice
	// when it adds two, so that a viewer can keep every counter live by
	// adding and never has to recount. Summed over a run's events, with
	// one more per event's Violation, it gives the report's count of every
	// key in Design.Metrics. It is not part of the JSON: the key is implied
	// by the event, and the event streams stay as they were.
	Moves []string `json:"-"`
}
