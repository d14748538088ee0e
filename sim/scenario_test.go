package sim

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestFromParamsRejectsBadInputNamingTheField(t *testing.T) {
	cases := []struct {
		name, value, field, mentions string
	}{
		{"design", "triple-write", "design", "allowed: dual-write"},
		{"seed", "-1", "seed", "whole number"},
		{"payments", "0", "payments", "1 to 100000"},
		{"payments", "100001", "payments", "1 to 100000"},
		{"payments", "lots", "payments", "whole number"},
		{"faults", "net.drop=1.5", "faults", "from 0 to 1"},
		{"faults", "net.drop=-0.1", "faults", "from 0 to 1"},
		{"faults", "net.drop=x", "faults", "not a number"},
		{"faults", "net.drop=NaN", "faults", "from 0 to 1"},
		{"faults", "cosmic.ray=0.1", "faults", "allowed: net.drop"},
		{"faults", "net.drop", "faults", "malformed"},
		{"faults", "net.drop=0.1,net.drop=0.2", "faults", "twice"},
		{"latency", "-5ms", "latency", "negative"},
		{"latency", "fast", "latency", "Go duration"},
		{"latency", "11s", "latency", "0s to 10s"},
		{"jitter", "-1ms", "jitter", "negative"},
		{"deadline", "0s", "deadline", "1ms to 24h"},
		{"deadline", "25h", "deadline", "1ms to 24h"},
	}
	for _, c := range cases {
		_, err := FromParams(func(n string) string {
			if n == c.name {
				return c.value
			}
			return ""
		})
		var ie *InputError
		if !errors.As(err, &ie) {
			t.Errorf("%s=%q: error %v, want an InputError", c.name, c.value, err)
			continue
		}
		if ie.Field != c.field || !strings.Contains(ie.Msg, c.mentions) {
			t.Errorf("%s=%q: field %q message %q, want field %q mentioning %q", c.name, c.value, ie.Field, ie.Msg, c.field, c.mentions)
		}
	}
}

func TestParamsRoundTrip(t *testing.T) {
	sc := scenario("outbox", 1234, 777, Faults{}.Set(NetDrop, 0.05).Set(CrashRelay, 0.01))
	sc.Latency = Duration(3_500_000)
	got, err := FromParams(func(n string) string {
		for _, kv := range sc.Params() {
			if kv[0] == n {
				return kv[1]
			}
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != sc {
		t.Errorf("round trip: got %+v, want %+v", got, sc)
	}
}

func FuzzParseFaults(f *testing.F) {
	for _, s := range []string{"", "net.drop=0.05", "net.drop=0.05,bus.ack.lost=0.1,crash.relay=0.01", "x=1", "net.drop=", ",,", "net.drop=1e-3", "net.dup=0x1p-2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fs, err := ParseFaults(s)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != "faults" {
				t.Fatalf("ParseFaults(%q): %v is not a faults InputError", s, err)
			}
			return
		}
		for i, p := range fs {
			if !(p >= 0 && p <= 1) {
				t.Fatalf("ParseFaults(%q): %s = %v accepted", s, faultNames[i], p)
			}
		}
		again, err := ParseFaults(fs.String())
		if err != nil || again != fs {
			t.Fatalf("ParseFaults(%q) = %v; reparsing %q gave %v, %v", s, fs, fs.String(), again, err)
		}
	})
}

func FuzzFromParams(f *testing.F) {
	f.Add("dual-write", "42", "200", "net.drop=0.1", "5ms", "2ms", "10m")
	f.Add("", "", "", "", "", "", "")
	f.Add("outbox", "18446744073709551615", "100000", "", "10s", "10s", "24h")
	f.Fuzz(func(t *testing.T, design, seed, payments, faults, latency, jitter, deadline string) {
		v := map[string]string{"design": design, "seed": seed, "payments": payments, "faults": faults,
			"latency": latency, "jitter": jitter, "deadline": deadline}
		sc, err := FromParams(func(n string) string { return v[n] })
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field == "" || ie.Msg == "" {
				t.Fatalf("%v: error %v does not name a field", v, err)
			}
			return
		}
		if err := sc.Validate(); err != nil {
			t.Fatalf("%v: accepted, then Validate says %v", v, err)
		}
		q, err := url.ParseQuery(sc.Query())
		if err != nil {
			t.Fatalf("%v: Query %q does not parse: %v", v, sc.Query(), err)
		}
		if back, err := FromParams(q.Get); err != nil || back != sc {
			t.Fatalf("%v: Query %q reads back as %+v, %v; want %+v", v, sc.Query(), back, err, sc)
		}
	})
}
