package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// randomScenario draws a valid scenario, keeping each later parameter at
// its default half of the time, since that is where the canonical URL
// leaves it out.
func randomScenario(r *rand.Rand) Scenario {
	names := DesignNames()
	sc := DefaultScenario()
	sc.Design = names[r.IntN(len(names))]
	sc.Seed = r.Uint64()
	if r.IntN(4) == 0 {
		sc.Seed = uint64(r.IntN(100))
	}
	sc.Payments = 1 + r.IntN(MaxPayments)
	ps := []float64{0, 0, 0, 0.1, 0.05, 1, 1e-7, 0.333333, 0.5, 0.02}
	for f := range sc.Faults {
		sc.Faults[f] = ps[r.IntN(len(ps))]
	}
	dur := func(max time.Duration, def Duration) Duration {
		switch r.IntN(4) {
		case 0, 1:
			return def
		case 2:
			return Duration(time.Duration(r.Int64N(int64(max)/int64(time.Millisecond)+1)) * time.Millisecond)
		}
		return Duration(r.Int64N(int64(max) + 1))
	}
	sc.Latency = dur(MaxLatency, sc.Latency)
	sc.Jitter = dur(MaxLatency, sc.Jitter)
	sc.Deadline = max(dur(MaxDeadline, sc.Deadline), Duration(time.Millisecond))
	sc.ClientTimeout = dur(MaxClientTimeout, sc.ClientTimeout)
	sc.ReplicaLag = dur(MaxReplicaLag, sc.ReplicaLag)
	sc.PartitionDuration = dur(MaxPartitionDuration, sc.PartitionDuration)
	return sc
}

// The writers the vocabulary replaced, frozen as they were (web's
// canonicalQuery, checklist's PlayURL, and the Params they both stood on),
// so that a link written before the vocabulary stays the link written
// after it.
func frozenParams(s Scenario) [][2]string {
	param := func(name string) string {
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
	def := map[string]string{"client-timeout": "0s", "replica-lag": "50ms", "partition-duration": "100ms"}
	var out [][2]string
	for _, name := range []string{"design", "seed", "payments", "faults", "latency", "jitter", "deadline",
		"client-timeout", "replica-lag", "partition-duration"} {
		v := param(name)
		if (name == "faults" && v == "") || (def[name] != "" && v == def[name]) {
			continue
		}
		out = append(out, [2]string{name, v})
	}
	return out
}

func frozenCanonicalQuery(sc Scenario) string {
	var b strings.Builder
	for i, kv := range frozenParams(sc) {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv[0])
		b.WriteByte('=')
		b.WriteString(strings.NewReplacer("%2C", ",", "%3D", "=", "%3A", ":").Replace(url.QueryEscape(kv[1])))
	}
	return b.String()
}

func frozenPlayURL(sc Scenario, compare string) string {
	var b strings.Builder
	b.WriteString("/play")
	sep := byte('?')
	add := func(k, v string) {
		b.WriteByte(sep)
		sep = '&'
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strings.NewReplacer("%3D", "=", "%2C", ",").Replace(url.QueryEscape(v)))
	}
	for _, kv := range frozenParams(sc) {
		add(kv[0], kv[1])
	}
	if compare != "" {
		add("compare", compare)
	}
	add("speed", "64")
	add("autoplay", "1")
	return b.String()
}

// The one writer gives, byte for byte, the links the three writers before
// it gave, for many scenarios, and they read back as the same scenario.
func TestQueryIsTheLinkTheFormerWritersWrote(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	names := append(DesignNames(), "")
	for i := range 2000 {
		sc := randomScenario(r)
		if i == 0 {
			sc = DefaultScenario()
		}
		if err := sc.Validate(); err != nil {
			t.Fatalf("scenario %d: %v", i, err)
		}
		if got, want := sc.Query(), frozenCanonicalQuery(sc); got != want {
			t.Fatalf("scenario %+v:\nQuery     %s\nformerly  %s", sc, got, want)
		}
		compare := names[r.IntN(len(names))]
		got := "/play?" + sc.PlayQuery(View{Compare: compare, Speed: PlayThroughSpeed, Autoplay: true})
		if want := frozenPlayURL(sc, compare); got != want {
			t.Fatalf("scenario %+v compare %q:\nPlayQuery %s\nformerly  %s", sc, compare, got, want)
		}
		q, err := url.ParseQuery(sc.Query())
		if err != nil {
			t.Fatalf("%s: %v", sc.Query(), err)
		}
		back, err := FromParams(q.Get)
		if err != nil || back != sc {
			t.Fatalf("%s reads back as %+v, %v; want %+v", sc.Query(), back, err, sc)
		}
	}
}

// PlayQuery writes the view after the scenario: compare only when set,
// speed always, autoplay only when on.
func TestPlayQueryWritesTheViewAfterTheScenario(t *testing.T) {
	sc := DefaultScenario()
	for _, c := range []struct {
		v    View
		want string
	}{
		{View{Speed: DefaultSpeed}, sc.Query() + "&speed=16"},
		{View{Speed: 0, Autoplay: true}, sc.Query() + "&speed=0&autoplay=1"},
		{View{Compare: "outbox", Speed: MinSpeed}, sc.Query() + "&compare=outbox&speed=0.25"},
	} {
		if got := sc.PlayQuery(c.v); got != c.want {
			t.Errorf("PlayQuery(%+v) = %s, want %s", c.v, got, c.want)
		}
	}
}

// The help of every flag reads as it did before the vocabulary, word for
// word: it is what `run -h` prints.
func TestParamHelpIsUnchanged(t *testing.T) {
	want := map[string]string{
		"design":   "design to run: " + strings.Join(DesignNames(), ", "),
		"seed":     "seed for every fault, delay and amount",
		"payments": "payment requests to send (1 to 100000)",
		"faults":   "fault probabilities, e.g. net.drop=0.05,bus.ack.lost=0.1; names: " + strings.Join(FaultNames(), ", "),
		"latency":  "mean one-way network delay (Go duration, up to 10s)",
		"jitter":   "delays spread over latency ± jitter (Go duration, up to 10s)",
		"deadline": "virtual time after which the run stops (Go duration, up to 24h0m0s)",
		"client-timeout": "how long a client waits for an answer before it gives up or retries " +
			"(Go duration, up to 1m0s; 0s: a round trip plus 100ms)",
		"replica-lag": "how far the replica trails the primary in the stale-read designs (Go duration, up to 1m0s)",
		"isolation": "isolation level of the limit-check designs' primary database: serializable (each transaction runs alone) " +
			"or read-committed (PostgreSQL's default: two concurrent checks can both read the old total)",
		"partition-duration": "the longest single outage net.partition cuts its down time into (Go duration, up to 10s)",
	}
	if len(ParamNames) != len(want) {
		t.Errorf("ParamNames = %v, want the %d names of %v", ParamNames, len(want), want)
	}
	for _, name := range ParamNames {
		if got := ParamHelp(name); got != want[name] {
			t.Errorf("ParamHelp(%q) = %q, want %q", name, got, want[name])
		}
	}
}

// Every parameter's default in the table is DefaultScenario's, and the
// view's speed default is one of the speeds offered.
func TestParamDefaultsAreTheDefaultScenarios(t *testing.T) {
	def := DefaultScenario()
	var names []string
	for _, p := range AllParams() {
		if p.View {
			continue
		}
		names = append(names, p.Name)
		if p.Default != def.Param(p.Name) {
			t.Errorf("%s: default %q, DefaultScenario has %q", p.Name, p.Default, def.Param(p.Name))
		}
		if len(p.Designs) == 0 {
			t.Errorf("%s touches no design", p.Name)
		}
	}
	if !slices.Equal(names, ParamNames) {
		t.Errorf("scenario params %v, ParamNames %v", names, ParamNames)
	}
	speed, ok := LookupParam("speed")
	if !ok || speed.Default != strconv.Itoa(DefaultSpeed) {
		t.Fatalf("speed param %+v, want default %d", speed, DefaultSpeed)
	}
	for _, v := range []float64{DefaultSpeed, PlayThroughSpeed, 0} {
		if !slices.ContainsFunc(speed.Choices, func(c Choice) bool { return c.Value == fmt.Sprint(v) }) {
			t.Errorf("speed %v is not among the choices %v", v, speed.Choices)
		}
	}
}

// streamDigest runs sc and folds its events and counts into one string,
// enough to tell two runs apart.
func streamDigest(t *testing.T, sc Scenario) string {
	t.Helper()
	var b strings.Builder
	res, err := Run(sc, func(ev *Event) {
		fmt.Fprintf(&b, "%d %s %s %s|", ev.AtUs, ev.Node, ev.Kind, ev.Note)
	})
	if err != nil {
		t.Fatalf("%+v: %v", sc, err)
	}
	j, err := json.Marshal(res.Report)
	if err != nil {
		t.Fatal(err)
	}
	b.Write(j)
	return b.String()
}

// A parameter's Designs are exactly the designs whose runs it changes: a
// scenario that exercises it gives another event stream when it moves,
// for the designs listed, and the very same stream for the others.
func TestParamDesignsAreTheDesignsItChanges(t *testing.T) {
	moves := map[string]func(*Scenario){
		"client-timeout":     func(s *Scenario) { s.ClientTimeout = Duration(time.Millisecond) },
		"replica-lag":        func(s *Scenario) { s.ReplicaLag = 0 },
		"partition-duration": func(s *Scenario) { s.PartitionDuration = Duration(2 * time.Millisecond) },
		"isolation":          func(s *Scenario) { s.Isolation = IsolationReadCommitted },
	}
	for _, p := range AllParams() {
		move, ok := moves[p.Name]
		if !ok {
			continue
		}
		for _, d := range Designs() {
			sc := DefaultScenario()
			sc.Design = d.Name
			sc.Payments = 100
			// At 1 the link never works, however long an outage may be:
			// 0.5 is down half the time, in outages as long as allowed.
			sc.Faults = Faults{}.Set(NetPartition, 0.5)
			moved := sc
			move(&moved)
			changed := streamDigest(t, sc) != streamDigest(t, moved)
			if listed := slices.Contains(p.Designs, d.Name); changed != listed {
				t.Errorf("%s on %s: the run changes %v, listed among its designs %v", p.Name, d.Name, changed, listed)
			}
		}
	}
}

func TestNoEffectNamesTheChosenDesignsNoneOfWhichTheFaultTouches(t *testing.T) {
	for _, c := range []struct {
		fault  Fault
		chosen []string
		want   string
	}{
		{BusPublishFail, []string{"retry-naive"}, "no effect on retry-naive: nothing there for it to act on"},
		{NetPartition, []string{"dual-write", "outbox-idempotent"}, "no effect on dual-write or outbox-idempotent: nothing there for it to act on"},
		{CrashRelay, []string{"dual-write", "outbox-idempotent"}, ""},
		{NetDrop, []string{"retry-naive"}, ""},
		{NetPartition, []string{"", "nope"}, ""},
	} {
		if got := NoEffect(c.fault, c.chosen...); got != c.want {
			t.Errorf("NoEffect(%s, %v) = %q, want %q", c.fault, c.chosen, got, c.want)
		}
		if got, touched := NoEffect(c.fault, c.chosen...), slices.ContainsFunc(c.chosen, func(n string) bool {
			return slices.Contains(DesignsTouchedBy(c.fault), n)
		}); touched && got != "" {
			t.Errorf("NoEffect(%s, %v) = %q, but DesignsTouchedBy lists one of them", c.fault, c.chosen, got)
		}
	}
}

// One check for every probability, whichever way it comes in, with one
// message.
func TestEveryProbabilityIsCheckedWithOneMessage(t *testing.T) {
	const want = "fault net.drop=1.5 is out of range; allowed: a probability from 0 to 1"
	var fs Faults
	errs := []error{
		Scenario(func() Scenario { s := DefaultScenario(); s.Faults[NetDrop] = 1.5; return s }()).Validate(),
		fs.UnmarshalJSON([]byte(`{"net.drop":1.5}`)),
	}
	_, err := ParseFaults("net.drop=1.5")
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil || err.Error() != want {
			t.Errorf("path %d: %v, want %q", i, err, want)
		}
	}
}

// FuzzPlayQuery writes a link for any seed, payments, compare and speed and
// reads it back as url.ParseQuery (the server) does: the scenario, the
// compare partner and the speed come back as they were, whatever the
// compare text holds.
func FuzzPlayQuery(f *testing.F) {
	f.Add(uint64(42), 200, "outbox-idempotent", 64.0, true)
	f.Add(uint64(0), 1, "", 0.25, false)
	f.Add(uint64(1<<63), 100000, "a&b=c,d:e;f g+h%", 1e300, true)
	f.Fuzz(func(t *testing.T, seed uint64, payments int, compare string, speed float64, autoplay bool) {
		sc := DefaultScenario()
		sc.Seed, sc.Payments = seed, payments
		if sc.Validate() != nil || math.IsNaN(speed) {
			return
		}
		link := sc.PlayQuery(View{Compare: compare, Speed: speed, Autoplay: autoplay})
		q, err := url.ParseQuery(link)
		if err != nil {
			t.Fatalf("%q does not parse: %v", link, err)
		}
		back, err := FromParams(q.Get)
		if err != nil || back != sc {
			t.Fatalf("%q reads back as %+v, %v; want %+v", link, back, err, sc)
		}
		if q.Get("compare") != compare || (compare == "") != !q.Has("compare") {
			t.Fatalf("%q: compare %q, want %q", link, q.Get("compare"), compare)
		}
		if sp, err := strconv.ParseFloat(q.Get("speed"), 64); err != nil || sp != speed {
			t.Fatalf("%q: speed %q, want %v", link, q.Get("speed"), speed)
		}
		if q.Has("autoplay") != autoplay {
			t.Fatalf("%q: autoplay %v, want %v", link, q.Has("autoplay"), autoplay)
		}
	})
}

// CheckSpeed keeps the speeds within the vocabulary's range, turns the
// fastest into 0 (as fast as possible) and refuses the rest naming the
// range.
func TestCheckSpeedKeepsTheVocabularysRange(t *testing.T) {
	for _, c := range []struct {
		in, want float64
		ok       bool
	}{
		{0, 0, true}, {MinSpeed, MinSpeed, true}, {DefaultSpeed, DefaultSpeed, true}, {MaxSpeed, 0, true}, {1e9, 0, true},
		{0.1, 0, false}, {-1, 0, false}, {math.NaN(), 0, false},
	} {
		got, err := CheckSpeed(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("CheckSpeed(%v) = %v, %v; want %v, ok %v", c.in, got, err, c.want, c.ok)
		}
		if ie, isInput := err.(*InputError); err != nil && (!isInput || ie.Field != "speed" || !strings.HasSuffix(ie.Msg, "allowed: "+SpeedAllowed)) {
			t.Errorf("CheckSpeed(%v): %v does not name speed and its range", c.in, err)
		}
	}
}
