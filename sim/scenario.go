package sim

import (
	"fmt"
	"strconv"
	"strings"
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
	// PartitionDuration is how long the link between two regions stays
	// broken each time the net.partition fault breaks it.
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
	if _, ok := lookupDesign(s.Design); !ok {
		return inputErr("design", "design %q is unknown; allowed: %s", s.Design, strings.Join(DesignNames(), ", "))
	}
	if s.Payments < MinPayments || s.Payments > MaxPayments {
		return inputErr("payments", "payments %d is out of range; allowed: %d to %d", s.Payments, MinPayments, MaxPayments)
	}
	for i, p := range s.Faults {
		if !(p >= 0 && p <= 1) { // also rejects NaN
			return inputErr("faults", "fault %s=%v is out of range; allowed: a probability from 0 to 1", faultNames[i], p)
		}
	}
	if err := checkDuration("latency", s.Latency, 0, Duration(MaxLatency)); err != nil {
		return err
	}
	if err := checkDuration("jitter", s.Jitter, 0, Duration(MaxLatency)); err != nil {
		return err
	}
	if err := checkDuration("deadline", s.Deadline, Duration(time.Millisecond), Duration(MaxDeadline)); err != nil {
		return err
	}
	if err := checkDuration("client-timeout", s.ClientTimeout, 0, Duration(MaxClientTimeout)); err != nil {
		return err
	}
	if err := checkDuration("replica-lag", s.ReplicaLag, 0, Duration(MaxReplicaLag)); err != nil {
		return err
	}
	return checkDuration("partition-duration", s.PartitionDuration, 0, Duration(MaxPartitionDuration))
}

func checkDuration(field string, d, lo, hi Duration) error {
	if d < lo || d > hi {
		return inputErr(field, "%s %s is out of range; allowed: %s to %s", field, d, lo, hi)
	}
	return nil
}

// ParamNames are the names a scenario uses on the command line (-name) and
// in URLs (?name=), in the order Params writes them.
var ParamNames = []string{"design", "seed", "payments", "faults", "latency", "jitter", "deadline",
	"client-timeout", "replica-lag", "partition-duration"}

// paramHelp says in a line what each parameter means.
var paramHelp = map[string]string{
	"design":   "design to run: " + strings.Join(DesignNames(), ", "),
	"seed":     "seed for every fault, delay and amount",
	"payments": fmt.Sprintf("payment requests to send (%d to %d)", MinPayments, MaxPayments),
	"faults":   "fault probabilities, e.g. net.drop=0.05,bus.ack.lost=0.1; names: " + strings.Join(faultNames[:], ", "),
	"latency":  "mean one-way network delay (Go duration, up to " + MaxLatency.String() + ")",
	"jitter":   "delays spread over latency ± jitter (Go duration, up to " + MaxLatency.String() + ")",
	"deadline": "virtual time after which the run stops (Go duration, up to " + MaxDeadline.String() + ")",
	"client-timeout": "how long a client waits for an answer before it gives up or retries " +
		"(Go duration, up to " + MaxClientTimeout.String() + "; 0s: a round trip plus 100ms)",
	"replica-lag":        "how far the replica trails the primary in the stale-read designs (Go duration, up to " + MaxReplicaLag.String() + ")",
	"partition-duration": "how long the link between the regions stays broken when net.partition breaks it (Go duration, up to " + MaxPartitionDuration.String() + ")",
}

// ParamHelp says in a line what a parameter means and what it allows.
func ParamHelp(name string) string { return paramHelp[name] }

// FromParams builds a scenario from named string values, starting from
// DefaultScenario; get returns "" for a name that was not given. The CLI and
// the web app both parse through here, so a flag and a URL parameter of the
// same name mean the same thing and fail with the same message.
func FromParams(get func(name string) string) (Scenario, error) {
	s := DefaultScenario()
	if v := get("design"); v != "" {
		s.Design = v
	}
	if v := get("seed"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return s, inputErr("seed", "seed %q is not valid; allowed: a whole number from 0 to %d", v, uint64(1<<64-1))
		}
		s.Seed = n
	}
	if v := get("payments"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return s, inputErr("payments", "payments %q is not valid; allowed: a whole number from %d to %d", v, MinPayments, MaxPayments)
		}
		s.Payments = n
	}
	if v := get("faults"); v != "" {
		f, err := ParseFaults(v)
		if err != nil {
			return s, err
		}
		s.Faults = f
	}
	for _, d := range []struct {
		name string
		dst  *Duration
	}{{"latency", &s.Latency}, {"jitter", &s.Jitter}, {"deadline", &s.Deadline},
		{"client-timeout", &s.ClientTimeout}, {"replica-lag", &s.ReplicaLag}, {"partition-duration", &s.PartitionDuration}} {
		if v := get(d.name); v != "" {
			p, err := ParseDuration(d.name, v)
			if err != nil {
				return s, err
			}
			*d.dst = p
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
	for _, name := range ParamNames {
		v := s.Param(name)
		switch name {
		case "faults":
			if v == "" {
				continue
			}
		case "client-timeout", "replica-lag", "partition-duration":
			if v == def.Param(name) {
				continue
			}
		}
		out = append(out, [2]string{name, v})
	}
	return out
}

// Param returns one parameter's value as FromParams reads it: the CLI takes
// its flag defaults from DefaultScenario().Param(name).
func (s Scenario) Param(name string) string {
	switch name {
	case "design":
		return s.Design
	case "seed":
		return strconv.FormatUint(s.Seed, 10)
	case "payments":
		return strconv.Itoa(s.Payments)
	case "faults":
		return s.Faults.String()
	case "latency":
		return s.Latency.String()
	case "jitter":
		return s.Jitter.String()
	case "deadline":
		return s.Deadline.String()
	case "client-timeout":
		return s.ClientTimeout.String()
	case "replica-lag":
		return s.ReplicaLag.String()
	case "partition-duration":
		return s.PartitionDuration.String()
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
