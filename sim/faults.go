package sim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Fault names one kind of failure the simulator can inject. Each has a
// probability per occurrence in a Scenario; zero means it never happens.
type Fault int

// The faults, in the order they are listed everywhere (CLI, JSON, UI).
const (
	// NetDrop loses a message between two nodes.
	NetDrop Fault = iota
	// NetDup delivers a message twice.
	NetDup
	// BusPublishFail makes a publish fail before it reaches the broker; the
	// publisher gets an error and knows nothing was stored.
	BusPublishFail
	// BusAckLost lets the broker store a message but loses its
	// acknowledgement: the publisher cannot tell whether it was stored.
	BusAckLost
	// BusRedeliver makes the broker deliver an already acknowledged message
	// again, as brokers do after a rebalance or an offset reset; it is
	// rolled on every ack, and one message comes back at most
	// maxRedeliveriesAfterAck times, so that even p = 1 settles.
	BusRedeliver
	// DBFail makes a commit fail: the transaction rolls back and the caller
	// gets an error.
	DBFail
	// CrashService crashes the payment service's node at a business
	// moment: before a commit, right after one, or before it answers (see
	// moment). Its probability is per such moment.
	CrashService
	// CrashRelay crashes the outbox relay's node at a business moment.
	CrashRelay
	// CrashConsumer crashes the ledger consumer's node at a business
	// moment.
	CrashConsumer
	// NetPartition breaks the link between two regions. Its probability
	// is not per occurrence: it is the fraction of the workload's span
	// (payments × 1 ms) during which the link is down, in outages of at
	// most partition-duration; 1 keeps the link broken.
	NetPartition
	// BusPoison makes a payment's event one its consumer can never
	// process: the broker stores it in a newer schema than the ledger's
	// consumer reads. It is decided once per payment (every copy of a
	// poisoned event is poisoned), so two designs meet the same poison
	// messages; only the poison-message designs' broker applies it.
	BusPoison
	numFaults
)

var faultNames = [numFaults]string{
	"net.drop", "net.dup", "bus.publish.fail", "bus.ack.lost", "bus.redeliver",
	"db.fail", "crash.service", "crash.relay", "crash.consumer",
	"net.partition", "bus.poison",
}

var faultSummaries = [numFaults]string{
	"a message between two nodes is lost",
	"a message between two nodes is delivered twice",
	"a publish never reaches the broker; the publisher gets an error",
	"the broker stored the message but the publisher never hears back",
	"the broker delivers an already acknowledged message again",
	"a commit fails; the transaction rolls back and the caller gets an error",
	"the payment service's node crashes before a commit, right after one, or before it answers (p per such moment) and restarts 10ms later; two designs crash on the same payment at the same moment until their stories part (a decline, or a retry answered from its key, commits nothing)",
	"the outbox relay's node crashes before the commit that marks published rows sent (p per row) or right after it, and restarts 10ms later; batches form by timing, so only designs with the same relay crash alike",
	"the ledger's node crashes before its commit, right after it, or before its ack (p per such moment) and restarts 10ms later; a delivery a consumer skips (a duplicate, an old event) commits nothing, so there consumers that skip part from those that do not",
	"the link between the two regions is down for this fraction of the workload (payments × 1 ms: at 0.3 and 200 payments, 60 ms), in outages of at most partition-duration placed by the seed; 1 keeps it down",
	"a payment's event reaches the ledger's consumer in a form it can never process (a schema newer than it reads); p per payment, and every copy of that event is poisoned",
}

// String is the fault's name as used in flags, URLs and JSON ("net.drop").
func (f Fault) String() string { return faultNames[f] }

// Summary says in one line what the fault does.
func (f Fault) Summary() string { return faultSummaries[f] }

// AllFaults lists every fault in its canonical order.
func AllFaults() []Fault {
	out := make([]Fault, numFaults)
	for i := range out {
		out[i] = Fault(i)
	}
	return out
}

// FaultNames lists every fault's name in canonical order.
func FaultNames() []string { return faultNames[:] }

// LookupFault finds a fault by name.
func LookupFault(name string) (Fault, bool) {
	for i, n := range faultNames {
		if n == name {
			return Fault(i), true
		}
	}
	return 0, false
}

// Faults holds one probability per Fault. It is an array, not a map, so that
// iterating it can never leak map order into a run.
type Faults [numFaults]float64

// Set returns a copy of fs with f set to p.
func (fs Faults) Set(f Fault, p float64) Faults { fs[f] = p; return fs }

// String writes the non-zero faults as "name=p,name=p" in canonical order,
// the form ParseFaults reads.
func (fs Faults) String() string {
	var b strings.Builder
	for i, p := range fs {
		if p == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(faultNames[i])
		b.WriteByte('=')
		b.WriteString(strconv.FormatFloat(p, 'g', -1, 64))
	}
	return b.String()
}

// MarshalJSON writes the faults as an object of the non-zero ones, keys in
// canonical order.
func (fs Faults) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	n := 0
	for i, p := range fs {
		if p == 0 {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		fmt.Fprintf(&b, "%q:%s", faultNames[i], strconv.FormatFloat(p, 'g', -1, 64))
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// UnmarshalJSON reads an object of fault name to probability, rejecting
// unknown names and probabilities outside [0, 1].
func (fs *Faults) UnmarshalJSON(data []byte) error {
	var m map[string]float64
	if err := json.Unmarshal(data, &m); err != nil {
		return inputErr("faults", "faults: %v; allowed: an object of fault name to probability", err)
	}
	var out Faults
	for name, p := range m {
		f, ok := LookupFault(name)
		if !ok {
			return unknownFault(name)
		}
		if err := checkProbability(name, p, fmt.Sprint(p)); err != nil {
			return err
		}
		out[f] = p
	}
	*fs = out
	return nil
}

// maxFaultList bounds the text ParseFaults accepts, so that a hostile input
// cannot make it allocate without bound.
const maxFaultList = 4096

// ParseFaults reads "name=p,name=p". Names must be known, each at most once,
// and every p a number in [0, 1].
func ParseFaults(s string) (Faults, error) {
	var fs Faults
	if len(s) > maxFaultList {
		return fs, inputErr("faults", "faults list is %d bytes long; allowed: at most %d", len(s), maxFaultList)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return fs, nil
	}
	var seen [numFaults]bool
	for _, item := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return fs, inputErr("faults", "faults item %q is malformed; allowed: name=p, e.g. net.drop=0.05", item)
		}
		name = strings.TrimSpace(name)
		f, known := LookupFault(name)
		if !known {
			return fs, unknownFault(name)
		}
		if seen[f] {
			return fs, inputErr("faults", "fault %s is given twice; allowed: each fault at most once", name)
		}
		seen[f] = true
		val = strings.TrimSpace(val)
		p, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return fs, inputErr("faults", "fault %s=%q is not a number; allowed: %s", name, val, probabilityRange)
		}
		if err := checkProbability(name, p, val); err != nil {
			return fs, err
		}
		fs[f] = p
	}
	return fs, nil
}

func unknownFault(name string) error {
	return inputErr("faults", "fault %q is unknown; allowed: %s", name, strings.Join(faultNames[:], ", "))
}
