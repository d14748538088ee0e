package sim

import (
	"embed"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"runtime"
	"strings"
)

// Design is one way to build the payment flow: the code the client runs
// (when it matters), the code the payment service runs per request, the
// outbox relay's loop (if any), and the downstream consumer. It is written
// as straight-line Go against the simulator's APIs, the way the handbook
// writes it.
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
	// Nodes lists the lanes this design's runs use, left to right.
	Nodes []string
	// Metrics lists the report keys this design's runs count, in the order
	// the UI shows them as counters.
	Metrics []string
	// Invariants lists the violation keys (a subset of Metrics) the checker
	// measures for this design; each has a first_violation entry when broken.
	Invariants []string
	// Client is the client's code, for designs where what the client does
	// is the point (retries); nil means the client sends each payment once.
	Client func(c *Client, pay Payment)
	// Faults lists, in canonical order, the faults that can fire in this
	// design's runs; the others have nothing to act on (a design with no
	// bus has no publish to fail), so the UI can say so instead of leaving
	// a learner to wonder why a slider did nothing.
	Faults []Fault
	// Databases lists the databases this design's runs keep, in lane
	// order, each with starter queries for the Tables panel.
	Databases []DatabaseInfo

	// family is the topology, workload and checker the design runs in; nil
	// is the dual-write and outbox family.
	family *family
}

// DatabaseInfo is one database a design's runs keep: its name, as the
// Tables panel and sim.Inspect know it, and queries worth asking of it.
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

// designs in the order they are listed and taught.
var designs = []*Design{
	{
		Name:    "dual-write",
		Summary: "save the payment, then publish the event: a failure between the two loses the event for good",
		Handle:  saveThenPublish, Consume: postToLedger,
	},
	{
		Name:    "publish-first",
		Summary: "publish the event, then save the payment: a failed save leaves the ledger moving money that was never charged",
		Handle:  publishThenSave, Consume: postToLedger,
	},
	{
		Name:    "dual-write-retry",
		Summary: "save, then publish with bounded retries and backoff: fewer losses, and a timeout retried becomes a duplicate",
		Handle:  saveThenPublishWithRetry, Consume: postToLedger,
	},
	{
		Name:    "outbox",
		Summary: "save the payment and an outbox row in one transaction; a relay publishes it; the consumer is not idempotent",
		Handle:  saveWithOutbox, Relay: relayOutbox, Consume: postToLedger,
	},
	{
		Name:    "outbox-idempotent",
		Summary: "outbox, and the consumer records each event id under a unique key in the same transaction as the entry",
		Handle:  saveWithOutbox, Relay: relayOutbox, Consume: postToLedgerOnce,
	},
	{
		Name:    "retry-naive",
		Summary: "the client retries a charge it heard nothing back about; the service charges every request it gets, so a lost answer charges twice",
		Client:  payWithRetries, Handle: chargeEveryRequest,
		Nodes: retryNodes, Metrics: retryMetrics, Invariants: []string{ViolationDoubleCharge},
		family: retryFamily,
	},
	{
		Name:    "retry-idempotency-key",
		Summary: "the client sends one key with every attempt; the service claims it with the charge in one transaction and answers retries from it",
		Client:  payWithKey, Handle: chargeOnce,
		Nodes: retryNodes, Metrics: retryMetrics, Invariants: []string{ViolationDoubleCharge},
		family: retryFamily,
	},
	{
		Name:       "decide-from-replica",
		Summary:    "the limit check reads the customer's total from a lagging replica: decisions on old totals let payments break the limit",
		Handle:     decideFromReplica,
		Nodes:      staleNodes,
		Metrics:    staleMetrics,
		Invariants: staleInvariants,
		family:     staleFamily,
	},
	{
		Name:       "decide-from-primary",
		Summary:    "the limit check reads the total from the primary in the transaction that records the payment: always the newest",
		Handle:     decideFromPrimary,
		Nodes:      staleNodes,
		Metrics:    staleMetrics,
		Invariants: staleInvariants,
		family:     staleFamily,
	},
	{
		Name:       "partition-ap",
		Summary:    "each region debits its own copy and merges later, through partitions too: always available, and accounts end below zero",
		Handle:     debitAP,
		Consume:    applyPeerDebit,
		Nodes:      partitionNodes,
		Metrics:    partitionMetrics,
		Invariants: []string{ViolationOverdraft},
		family:     partitionFamily,
	},
	{
		Name:       "partition-cp",
		Summary:    "one primary region decides every debit; the other refuses what it cannot forward: consistent, and some requests are rejected",
		Handle:     debitCP,
		Consume:    applyPeerDebit,
		Nodes:      partitionNodes,
		Metrics:    partitionMetrics,
		Invariants: []string{ViolationOverdraft},
		family:     partitionFamily,
	},
	{
		Name:       "consumer-naive",
		Summary:    "the consumer applies each status event as it arrives: a late \"created\" turns a refunded payment back into a new one",
		Handle:     publishStatuses,
		Consume:    applyEveryStatus,
		Nodes:      reorderNodes,
		Metrics:    reorderMetrics,
		Invariants: []string{ViolationOutOfOrder},
		family:     reorderFamily,
	},
	{
		Name:       "consumer-versioned",
		Summary:    "status events carry a per-payment version; the consumer ignores any event older than what it holds",
		Handle:     publishStatuses,
		Consume:    applyNewerStatus,
		Nodes:      reorderNodes,
		Metrics:    reorderMetrics,
		Invariants: []string{ViolationOutOfOrder},
		family:     reorderFamily,
	},
}

// Lanes and counters of each later family.
var (
	retryNodes   = []string{NodeClient, NodeService, NodeServiceDB}
	retryMetrics = []string{"charges", "retries", ViolationDoubleCharge}

	staleNodes      = []string{NodeClient, NodeService, NodeServiceDB, NodeReplicaDB}
	staleInvariants = []string{ViolationStale, ViolationLimitBreach}
	staleMetrics    = []string{"accepted", "declined", ViolationStale, ViolationLimitBreach}

	partitionNodes   = []string{NodeClient, NodeRegionA, NodeRegionADB, NodeRegionB, NodeRegionBDB}
	partitionMetrics = []string{"accepted", "declined", "rejected", ViolationOverdraft}

	reorderNodes   = []string{NodeClient, NodeService, NodeServiceDB, NodeBus, NodeOrders, NodeOrdersDB}
	reorderMetrics = []string{"published", "delivered", "applied", "ignored", ViolationOutOfOrder}
)

func init() {
	for _, d := range designs {
		if d.Nodes == nil {
			d.Nodes = Nodes
		}
		if d.Metrics == nil {
			d.Metrics = []string{"committed", "published", "delivered", "ledger_entries", ViolationLost, ViolationPhantom, ViolationDuplicate}
			d.Invariants = Violations
		}
		d.Faults = faultsOf(d)
		fam := d.family
		if fam == nil {
			fam = paymentFamily
		}
		d.Databases = fam.databases
	}
}

// faultsOf derives which faults can touch d from its topology: every family
// has a network, a database and a service that can crash; the families with
// a message bus add its faults and a consumer that can crash; a relay can
// crash only where there is one; only the two-region family has a link that
// can partition. TestDesignFaultsAreExactlyTheFaultsThatFire holds this to
// what runs actually do.
func faultsOf(d *Design) []Fault {
	can := map[Fault]bool{NetDrop: true, NetDup: true, DBFail: true, CrashService: true}
	switch d.family {
	case nil, paymentFamily, reorderFamily:
		can[BusPublishFail], can[BusAckLost], can[BusRedeliver], can[CrashConsumer] = true, true, true, true
	case partitionFamily:
		can[NetPartition] = true
	}
	if d.Relay != nil {
		can[CrashRelay] = true
	}
	var out []Fault
	for _, f := range AllFaults() {
		if can[f] {
			out = append(out, f)
		}
	}
	return out
}

// Designs lists every design in teaching order.
func Designs() []Design {
	out := make([]Design, len(designs))
	for i, d := range designs {
		out[i] = *d
	}
	return out
}

// LookupDesign returns the design with this name.
func LookupDesign(name string) (Design, bool) {
	d, ok := lookupDesign(name)
	if !ok {
		return Design{}, false
	}
	return *d, true
}

// DesignNames lists every design's name in teaching order.
func DesignNames() []string {
	out := make([]string, len(designs))
	for i, d := range designs {
		out[i] = d.Name
	}
	return out
}

func lookupDesign(name string) (*Design, bool) {
	for _, d := range designs {
		if d.Name == name {
			return d, true
		}
	}
	return nil, false
}

// The design files are embedded so that the source the UI shows is the very
// code that runs, read at build time, never a copy that can drift.
//
//go:embed design_*.go
var designFiles embed.FS

// SourceFunc is one function of a design's source, as written in sim.
type SourceFunc struct {
	// Role is "client", "service", "relay" or "consumer".
	Role string `json:"role"`
	// Name is the Go function's name.
	Name string `json:"name"`
	// Code is the function with its doc comment.
	Code string `json:"code"`
}

// DesignSource returns the Go source of the functions a design runs.
func DesignSource(name string) ([]SourceFunc, error) {
	d, ok := lookupDesign(name)
	if !ok {
		return nil, inputErr("design", "design %q is unknown; allowed: %s", name, strings.Join(DesignNames(), ", "))
	}
	var out []SourceFunc
	add := func(role string, fn any) error {
		if reflect.ValueOf(fn).IsNil() {
			return nil
		}
		full := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
		short := full[strings.LastIndexByte(full, '.')+1:]
		code, err := funcSource(short)
		if err != nil {
			return err
		}
		out = append(out, SourceFunc{Role: role, Name: short, Code: code})
		return nil
	}
	for _, f := range []struct {
		role string
		fn   any
	}{{"client", d.Client}, {"service", d.Handle}, {"relay", d.Relay}, {"consumer", d.Consume}} {
		if err := add(f.role, f.fn); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// funcSource finds a top-level function by name in the embedded design
// files and returns its text, doc comment included.
func funcSource(name string) (string, error) {
	entries, err := designFiles.ReadDir(".")
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		src, err := designFiles.ReadFile(e.Name())
		if err != nil {
			return "", err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, e.Name(), src, parser.ParseComments)
		if err != nil {
			return "", err
		}
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || fd.Name.Name != name {
				continue
			}
			start := fd.Pos()
			if fd.Doc != nil {
				start = fd.Doc.Pos()
			}
			return string(src[fset.Position(start).Offset:fset.Position(fd.End()).Offset]), nil
		}
	}
	return "", fmt.Errorf("sim: source of %s not found", name)
}
