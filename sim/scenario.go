package sim

import (
	"fmt"
	"time"
)

// Limits on every input. A scenario outside them is rejected by Validate
// with an error naming the field and the allowed range, so that no input can
// make a run unbounded in time or memory.
const (
	MinPayments = 1
	MaxPayments = 100_000
	MaxLatency  = 10 * time.Second
	MaxDeadline = 24 * time.Hour
	// MaxClientTimeout, MaxReplicaLag and MaxPartitionDuration bound the
	// parameters of the retry, stale-read and partition designs.
	MaxClientTimeout     = time.Minute
	MaxReplicaLag        = time.Minute
	MaxPartitionDuration = 10 * time.Second
	// MaxEvents caps one run's event stream; a run that reaches it stops
	// with Report.Stopped = "event-limit".
	MaxEvents = 5_000_000
)

// Defaults a scenario starts from. They are chosen so that the handbook's
// example plays out in well under a virtual minute.
const (
	DefaultPayments = 200
	DefaultLatency  = 5 * time.Millisecond
	DefaultJitter   = 2 * time.Millisecond
	DefaultDeadline = 10 * time.Minute
	DefaultSeed     = 42
	// DefaultReplicaLag is long against the time between two payments of
	// one customer, so that a decision read from the replica is often
	// stale, as a busy replica's is.
	DefaultReplicaLag = 50 * time.Millisecond
	// DefaultPartitionDuration is long against a request, so that a
	// partition spans many debits.
	DefaultPartitionDuration = 100 * time.Millisecond
)

// Scenario is everything a run depends on: the same scenario gives the same
// event stream and report, byte for byte, on any machine.
type Scenario struct {
	// Design is the name of the design under test (see Designs).
	Design string `json:"design"`
	// Seed derives every fault, latency and workload decision.
	Seed uint64 `json:"seed"`
	// Payments is how many payment requests the clients send.
	Payments int `json:"payments"`
	// Faults holds one probability per fault kind; zero means off.
	Faults Faults `json:"faults"`
	// Latency is the mean one-way network delay between two nodes.
	Latency Duration `json:"latency"`
	// Jitter spreads each delay uniformly over Latency ± Jitter, which is
	// what lets one message overtake another.
	Jitter Duration `json:"jitter"`
	// Deadline is the virtual time after which the run stops even if work is
	// still pending (retries of a message that is always dropped, say).
	Deadline Duration `json:"deadline"`
	// ClientTimeout is how long a client waits for the payment service's
	// answer before giving up (the retry designs then retry); zero means a
	// round trip plus 100ms.
	ClientTimeout Duration `json:"client_timeout,omitempty"`
	// ReplicaLag is how far the replica behind the stale-read designs
	// trails their primary database.
	ReplicaLag Duration `json:"replica_lag,omitempty"`
	// Isolation is the isolation level the limit-check designs' primary
	// database runs its transactions at: IsolationSerializable (the
	// default, written "" here so that older scenarios stay the same
	// bytes) or IsolationReadCommitted.
	Isolation string `json:"isolation,omitempty"`
	// PartitionDuration is the longest single outage the net.partition
	// fault cuts the link's down time into.
	PartitionDuration Duration `json:"partition_duration,omitempty"`
}

// DefaultScenario is the scenario the CLI and the playground start from.
func DefaultScenario() Scenario {
	return Scenario{
		Design:   "dual-write",
		Seed:     DefaultSeed,
		Payments: DefaultPayments,
		Latency:  Duration(DefaultLatency),
		Jitter:   Duration(DefaultJitter),
		Deadline: Duration(DefaultDeadline),

		ReplicaLag:        Duration(DefaultReplicaLag),
		PartitionDuration: Duration(DefaultPartitionDuration),
	}
}

// Validate reports the first field that is out of range, naming the field,
// the bad value and what is allowed.
func (s Scenario) Validate() error {
	for _, p := range params {
		if p.check != nil {
			if err := p.check(s); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkDuration(field string, d, lo, hi Duration) error {
	if d < lo || d > hi {
		return inputErr(field, "%s %s is out of range; allowed: %s to %s", field, d, lo, hi)
	}
	return nil
}

// FromParams builds a scenario from named string values, starting from
// DefaultScenario; get returns "" for a name that was not given. The CLI and
// the web app both parse through here, so a flag and a URL parameter of the
// same name mean the same thing and fail with the same message. The view's
// parameters (compare, speed, autoplay) are not read.
func FromParams(get func(name string) string) (Scenario, error) {
	s := DefaultScenario()
	for _, p := range params {
		if p.set == nil {
			continue
		}
		if v := get(p.Name); v != "" {
			if err := p.set(&s, v); err != nil {
				return s, err
			}
		}
	}
	return s, s.Validate()
}

// Params returns the scenario as name/value pairs in ParamNames order,
// leaving out faults when none is set and the parameters added after the
// first release when they hold their default, so that the URLs of older
// scenarios stay canonical. FromParams(Params) gives the scenario back.
func (s Scenario) Params() [][2]string {
	def := DefaultScenario()
	var out [][2]string
	for _, p := range params {
		if p.get == nil {
			continue
		}
		v := p.get(s)
		if p.omitDefault && v == p.get(def) {
			continue
		}
		out = append(out, [2]string{p.Name, v})
	}
	return out
}

// Param returns one scenario parameter's value as FromParams reads it; ""
// for a name that is not one.
func (s Scenario) Param(name string) string {
	for _, p := range params {
		if p.Name == name && p.get != nil {
			return p.get(s)
		}
	}
	return ""
}

// Duration is a span of virtual time. It reads and writes as a Go duration
// string ("5ms", "2s", "10m") everywhere: flags, URLs, JSON.
type Duration time.Duration

// String formats d the way time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes d as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	p, err := ParseDuration("duration", string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// ParseDuration parses a Go duration string for the named field; negative
// values are rejected here so that every caller says the same thing.
func ParseDuration(field, v string) (Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, inputErr(field, "%s %q is not a duration; allowed: a Go duration such as 5ms, 2s or 10m", field, v)
	}
	if d < 0 {
		return 0, inputErr(field, "%s %s is negative; allowed: zero or more", field, v)
	}
	return Duration(d), nil
}

// InputError is a scenario value that is not allowed. Field names the
// parameter at fault ("payments", "faults", …), so a form can show the
// message beside it; the message names the value and what is allowed.
type InputError struct {
	Field string
	Msg   string
}

func (e *InputError) Error() string { return e.Msg }

func inputErr(field, format string, args ...any) error {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}
