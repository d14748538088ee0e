package sim

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Param is one word of the scenario's vocabulary: a name that means the
// same thing as a flag (-name), in a URL (?name=), in the playground's form
// and in the browser. Every place that reads, writes, checks or shows a
// parameter does it from this table (AllParams), so a parameter is added,
// renamed or given a new range in one place.
type Param struct {
	// Name is the flag and URL name ("client-timeout").
	Name string `json:"name"`
	// Help says in a line what it means and what it allows: the CLI's flag
	// help and the form's hint.
	Help string `json:"help"`
	// Default is the value a scenario starts from (DefaultScenario's), in
	// the URL's form.
	Default string `json:"default"`
	// Kind says what sort of value it is, and so which control shows it:
	// "design", "number" (a whole number), "faults", "duration", "speed",
	// "choice" (one of Choices) or "flag".
	Kind string `json:"kind"`
	// Unit says what the value is: "payments", "Go duration",
	// "probability", "virtual ms per real second"; empty for a name.
	Unit string `json:"unit,omitempty"`
	// Min and Max bound the value, in the URL's form; empty when the value
	// is a name or has no bound of its own.
	Min string `json:"min,omitempty"`
	Max string `json:"max,omitempty"`
	// Core parameters are the ones a share link always spells out and the
	// form shows first; the others sit under "More settings" and a link
	// written in the browser leaves them out at their default.
	Core bool `json:"core,omitempty"`
	// View marks how the playground plays a scenario (compare, speed,
	// autoplay) rather than what the scenario is: it is no part of a
	// Scenario, and FromParams ignores it.
	View bool `json:"view,omitempty"`
	// Choices are the values a control offers: for speed, where a URL may
	// still name another value within Min and Max, and for a "choice",
	// whose value must be one of them.
	Choices []Choice `json:"choices,omitempty"`
	// Designs names the designs the parameter can change the run of, in
	// teaching order: every design for most, only the designs with a
	// replica for replica-lag, say. View parameters have none.
	Designs []string `json:"-"`

	// omitDefault leaves the parameter out of the canonical URL while it
	// holds its default: faults when none is set, and the parameters added
	// after the first release, so the URLs of older scenarios stay as
	// they were.
	omitDefault bool
	// get writes the parameter's value from a scenario; set parses and
	// stores it; check reports a value out of range. View parameters have
	// none of them.
	get   func(s Scenario) string
	set   func(s *Scenario, v string) error
	check func(s Scenario) error
	// touches says whether the parameter can change d's runs.
	touches func(d Design) bool
}

// Choice is one value a control offers and its label.
type Choice struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// Playback speeds, in virtual milliseconds per real second. At MaxSpeed or
// above (or at 0) a run is shown as fast as the viewer takes it.
const (
	// DefaultSpeed is where the playground starts when a link names no
	// speed: slow enough to follow a 200-payment run.
	DefaultSpeed = 16
	// PlayThroughSpeed is the speed of links that open a run and play it
	// through (the checklist's demos): a 200-payment run lasts about 300
	// virtual milliseconds, so it plays through in about five seconds.
	PlayThroughSpeed = 64
	// MinSpeed is the slowest a viewer may ask for: a millisecond of
	// virtual time every four real seconds.
	MinSpeed = 0.25
	// MaxSpeed and above play as fast as the viewer takes the events, as
	// 0 does.
	MaxSpeed = 100_000
)

// SpeedAllowed says which playback speeds a viewer may ask for, in every
// message that refuses one.
var SpeedAllowed = fmt.Sprintf("%v to %v virtual ms per real second, or 0 for as fast as possible", MinSpeed, float64(MaxSpeed))

// CheckSpeed validates a requested playback speed and returns it
// normalised: 0 for "as fast as possible", which MaxSpeed and above mean
// too.
func CheckSpeed(speed float64) (float64, error) {
	switch {
	case speed == 0 || speed >= MaxSpeed:
		return 0, nil
	case speed >= MinSpeed: // also rejects NaN
		return speed, nil
	}
	return 0, inputErr("speed", "speed %v is out of range; allowed: %s", speed, SpeedAllowed)
}

// probabilityRange is what a fault's probability may be, in every message
// that rejects one.
const probabilityRange = "a probability from 0 to 1"

// checkProbability reports a fault's probability outside [0, 1]; shown is
// the value as the message should print it.
func checkProbability(name string, p float64, shown string) error {
	if p >= 0 && p <= 1 { // also rejects NaN
		return nil
	}
	return inputErr("faults", "fault %s=%s is out of range; allowed: %s", name, shown, probabilityRange)
}

// everyDesign is a touches for the parameters every run depends on.
func everyDesign(Design) bool { return true }

// params is the vocabulary in URL order: the scenario's parameters, then
// the view's. A flag, a URL, the form and the browser list them in this
// order.
var params = []Param{
	{
		Name: "design", Kind: "design", Core: true,
		Help: "design to run: " + strings.Join(DesignNames(), ", "),
		get:  func(s Scenario) string { return s.Design },
		set:  func(s *Scenario, v string) error { s.Design = v; return nil },
		check: func(s Scenario) error {
			if _, ok := lookupDesign(s.Design); !ok {
				return inputErr("design", "design %q is unknown; allowed: %s", s.Design, strings.Join(DesignNames(), ", "))
			}
			return nil
		},
		touches: everyDesign,
	},
	{
		Name: "seed", Kind: "number", Core: true, Min: "0", Max: strconv.FormatUint(1<<64-1, 10),
		Help: "seed for every fault, delay and amount",
		get:  func(s Scenario) string { return strconv.FormatUint(s.Seed, 10) },
		set: func(s *Scenario, v string) error {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return inputErr("seed", "seed %q is not valid; allowed: a whole number from 0 to %d", v, uint64(1<<64-1))
			}
			s.Seed = n
			return nil
		},
		touches: everyDesign,
	},
	{
		Name: "payments", Kind: "number", Core: true, Unit: "payments",
		Min: strconv.Itoa(MinPayments), Max: strconv.Itoa(MaxPayments),
		Help: fmt.Sprintf("payment requests to send (%d to %d)", MinPayments, MaxPayments),
		get:  func(s Scenario) string { return strconv.Itoa(s.Payments) },
		set: func(s *Scenario, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return inputErr("payments", "payments %q is not valid; allowed: a whole number from %d to %d", v, MinPayments, MaxPayments)
			}
			s.Payments = n
			return nil
		},
		check: func(s Scenario) error {
			if s.Payments < MinPayments || s.Payments > MaxPayments {
				return inputErr("payments", "payments %d is out of range; allowed: %d to %d", s.Payments, MinPayments, MaxPayments)
			}
			return nil
		},
		touches: everyDesign,
	},
	{
		Name: "faults", Kind: "faults", Core: true, Unit: "probability", Min: "0", Max: "1", omitDefault: true,
		Help: "fault probabilities, e.g. net.drop=0.05,bus.ack.lost=0.1; names: " + strings.Join(faultNames[:], ", "),
		get:  func(s Scenario) string { return s.Faults.String() },
		set: func(s *Scenario, v string) error {
			f, err := ParseFaults(v)
			if err != nil {
				return err
			}
			s.Faults = f
			return nil
		},
		check: func(s Scenario) error {
			for i, p := range s.Faults {
				if err := checkProbability(faultNames[i], p, fmt.Sprint(p)); err != nil {
					return err
				}
			}
			return nil
		},
		touches: everyDesign,
	},
	durationParam("latency", 0, MaxLatency, true, false,
		"mean one-way network delay", everyDesign,
		func(s *Scenario) *Duration { return &s.Latency }),
	durationParam("jitter", 0, MaxLatency, true, false,
		"delays spread over latency ± jitter", everyDesign,
		func(s *Scenario) *Duration { return &s.Jitter }),
	durationParam("deadline", time.Millisecond, MaxDeadline, false, false,
		"virtual time after which the run stops", everyDesign,
		func(s *Scenario) *Duration { return &s.Deadline }),
	// Every design has a client that waits for its answer.
	durationParam("client-timeout", 0, MaxClientTimeout, false, true,
		"how long a client waits for an answer before it gives up or retries",
		func(d Design) bool { return slices.Contains(d.Nodes, NodeClient) },
		func(s *Scenario) *Duration { return &s.ClientTimeout }),
	// Only a design with a replica has one to lag.
	durationParam("replica-lag", 0, MaxReplicaLag, false, true,
		"how far the replica trails the primary in the stale-read designs",
		func(d Design) bool { return slices.Contains(d.Nodes, NodeReplicaDB) },
		func(s *Scenario) *Duration { return &s.ReplicaLag }),
	// Only the limit-check designs run concurrent transactions whose
	// isolation decides what they see.
	{
		Name: "isolation", Kind: "choice", omitDefault: true,
		Help: "isolation level of the limit-check designs' primary database: serializable (each transaction runs alone) " +
			"or read-committed (PostgreSQL's default: two concurrent checks can both read the old total)",
		Choices: []Choice{
			{IsolationSerializable, "serializable"},
			{IsolationReadCommitted, "read committed"},
		},
		get: func(s Scenario) string {
			if s.Isolation == "" {
				return IsolationSerializable
			}
			return s.Isolation
		},
		set: func(s *Scenario, v string) error {
			s.Isolation = v
			if v == IsolationSerializable {
				s.Isolation = ""
			}
			return nil
		},
		check: func(s Scenario) error {
			if s.Isolation != "" && s.Isolation != IsolationSerializable && s.Isolation != IsolationReadCommitted {
				return inputErr("isolation", "isolation %q is unknown; allowed: %s, %s", s.Isolation, IsolationSerializable, IsolationReadCommitted)
			}
			return nil
		},
		touches: func(d Design) bool { return d.family == staleFamily },
	},
	// Only a design with a link that net.partition can break has a
	// partition to last.
	durationParam("partition-duration", 0, MaxPartitionDuration, false, true,
		"the longest single outage net.partition cuts its down time into",
		func(d Design) bool { return slices.Contains(d.Faults, NetPartition) },
		func(s *Scenario) *Duration { return &s.PartitionDuration }),
	{
		Name: "compare", Kind: "design", View: true,
		Help: "a second design to run on the same scenario, side by side",
	},
	{
		Name: "speed", Kind: "speed", View: true, Default: strconv.Itoa(DefaultSpeed), Unit: "virtual ms per real second",
		Min: strconv.FormatFloat(MinSpeed, 'g', -1, 64), Max: strconv.Itoa(MaxSpeed),
		Help: "playback speed in virtual ms per real second; 0 plays as fast as possible",
		Choices: []Choice{
			{"1", "1 ms/s"}, {"4", "4 ms/s"}, {"16", "16 ms/s"}, {"64", "64 ms/s"},
			{"256", "256 ms/s"}, {"1000", "1 s/s"}, {"0", "max"},
		},
	},
	{
		Name: "autoplay", Kind: "flag", View: true,
		Help: "1 plays the run as soon as the page opens",
	},
}

// durationParam is a parameter holding a span of virtual time in [lo, hi].
// Its help ends with the unit and the bound; client-timeout's also says
// what its zero means.
func durationParam(name string, lo, hi time.Duration, core, omitDefault bool, help string,
	touches func(Design) bool, field func(s *Scenario) *Duration) Param {
	help += " (Go duration, up to " + hi.String()
	if name == "client-timeout" {
		help += "; 0s: a round trip plus 100ms"
	}
	return Param{
		Name: name, Kind: "duration", Core: core, Unit: "Go duration", Min: lo.String(), Max: hi.String(),
		Help: help + ")", omitDefault: omitDefault,
		get: func(s Scenario) string { return field(&s).String() },
		set: func(s *Scenario, v string) error {
			d, err := ParseDuration(name, v)
			if err != nil {
				return err
			}
			*field(s) = d
			return nil
		},
		check:   func(s Scenario) error { return checkDuration(name, *field(&s), Duration(lo), Duration(hi)) },
		touches: touches,
	}
}

// AllParams lists the vocabulary in URL order, the scenario's parameters
// first and the view's after, each with the designs it can touch.
func AllParams() []Param {
	out := slices.Clone(params)
	def := DefaultScenario()
	for i := range out {
		if out[i].get != nil {
			out[i].Default = out[i].get(def)
		}
		if out[i].touches == nil {
			continue
		}
		for _, d := range designs {
			if out[i].touches(*d) {
				out[i].Designs = append(out[i].Designs, d.Name)
			}
		}
	}
	return out
}

// LookupParam finds a parameter of the vocabulary by name.
func LookupParam(name string) (Param, bool) {
	for _, p := range AllParams() {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// ParamNames are the names a scenario uses on the command line (-name) and
// in URLs (?name=), in the order Params writes them; the view's parameters
// are not among them.
var ParamNames = func() []string {
	var out []string
	for _, p := range params {
		if !p.View {
			out = append(out, p.Name)
		}
	}
	return out
}()

// ParamHelp says in a line what a parameter means and what it allows; ""
// for a name that is not in the vocabulary.
func ParamHelp(name string) string {
	for _, p := range params {
		if p.Name == name {
			return p.Help
		}
	}
	return ""
}

// DesignsTouchedBy lists, in teaching order, the designs fault can fire in
// (those whose Faults hold it).
func DesignsTouchedBy(fault Fault) []string {
	var out []string
	for _, d := range designs {
		if slices.Contains(d.Faults, fault) {
			out = append(out, d.Name)
		}
	}
	return out
}

// NoEffectSentence is what the form says beside a fault that none of the
// chosen designs can be touched by; {designs} stands for their names
// joined with " or ". The browser is given it as data and fills it in the
// same way.
const NoEffectSentence = "no effect on {designs}: nothing there for it to act on"

// NoEffect says, when none of the chosen designs (unknown names and empty
// ones are skipped) can be touched by fault, that its setting will do
// nothing; "" when one of them can, or none is chosen.
func NoEffect(fault Fault, chosen ...string) string {
	var names []string
	for _, name := range chosen {
		d, ok := lookupDesign(name)
		if !ok {
			continue
		}
		if slices.Contains(d.Faults, fault) {
			return ""
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return ""
	}
	return strings.Replace(NoEffectSentence, "{designs}", strings.Join(names, " or "), 1)
}

// View is how the playground plays a scenario: no part of the run, but
// part of a link to it.
type View struct {
	// Compare names a second design to run beside the scenario's; "" for
	// none.
	Compare string
	// Speed is the playback speed in virtual ms per real second; 0 plays
	// as fast as possible.
	Speed float64
	// Autoplay plays the run as soon as the page opens.
	Autoplay bool
}

// Query is the scenario's canonical query string: Params in order, values
// escaped so that commas, equals signs and colons stay readable
// ("faults=bus.publish.fail=0.1,net.drop=0.02"); url.ParseQuery and
// URLSearchParams split a pair on its first '=' only. The same scenario
// always gives the same string, so it can name a cached run.
func (s Scenario) Query() string {
	var b strings.Builder
	writeQuery(&b, s.Params())
	return b.String()
}

// PlayQuery is the query string of a playground link that plays s as v
// says: the canonical query, then compare (when set), speed and autoplay
// (when set). The playground, the checklist's demos and lessons all link
// through here.
func (s Scenario) PlayQuery(v View) string {
	var b strings.Builder
	pairs := s.Params()
	if v.Compare != "" {
		pairs = append(pairs, [2]string{"compare", v.Compare})
	}
	pairs = append(pairs, [2]string{"speed", strconv.FormatFloat(v.Speed, 'g', -1, 64)})
	if v.Autoplay {
		pairs = append(pairs, [2]string{"autoplay", "1"})
	}
	writeQuery(&b, pairs)
	return b.String()
}

// writeQuery writes name=value pairs joined by '&', each value escaped
// as a query value except for ',', '=' and ':'.
func writeQuery(b *strings.Builder, pairs [][2]string) {
	for i, kv := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv[0])
		b.WriteByte('=')
		b.WriteString(readableEscaper.Replace(url.QueryEscape(kv[1])))
	}
}

var readableEscaper = strings.NewReplacer("%2C", ",", "%3D", "=", "%3A", ":")
