package lessons

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"partialtruth/sim"
)

// checkChanged parses the good lesson with one change and returns what
// Check says about it.
func checkChanged(t *testing.T, old, new string) (string, Problems) {
	t.Helper()
	good := readGood(t)
	if !strings.Contains(good, old) {
		t.Fatalf("the good lesson has no %q", old)
	}
	src := strings.Replace(good, old, new, 1)
	l, err := Parse("good.md", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return src, Check(context.Background(), l)
}

func lineOfText(src, at string) int { return 1 + strings.Count(src[:strings.Index(src, at)], "\n") }

func TestCheckFailsAStatedClaimTheRunDoesNotBearOut(t *testing.T) {
	cases := []struct{ name, old, new, at, want string }{
		{"an expectation that does not hold", "expect: lost > 0", "expect: lost = 0", "expect:", "expect lost = 0 does not hold on the run of dual-write: lost is "},
		{"a compare run that does not bear out its expectation", "faults=bus.publish.fail=0.2\nexpect: lost > 0", "faults=bus.publish.fail=0.2&compare=dual-write\nexpect: lost > 0\nexpect-compare: lost = 0", "expect-compare:", "expect-compare lost = 0 does not hold on the run of dual-write: lost is "},
		{"a reveal of an event that never happened", "event: lost", "event: phantom", "event: phantom", "shows no phantom violation"},
		{"a prediction whose answer is out of range", "max: 50", "max: 1", "number: lost", "outside the answers allowed (0 to 1)"},
		{"a challenge solved at its start", "start: design=dual-write&", "start: design=outbox-idempotent&", "start:", "solved at its start"},
		{"a solution that does not solve", "solution: design=outbox-idempotent&", "solution: design=dual-write&", "solution:", "the solution does not solve the challenge: Not yet: lost is "},
		{"a number typed by hand in a title", "## Predict: How many are lost?", "## Predict: How many of the 50 are lost?", "## Predict", `title holds "50"`},
		{"a number typed by hand", "The service saves, then publishes.", "The service saves, then publishes; 12 are lost.", "12 are lost", `"12" is a number typed by hand`},
		{"a solution that changes what may not change", "may: [design]", "may: [payments]", "solution:", "this challenge keeps design at dual-write"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, ps := checkChanged(t, c.old, c.new)
			prefix := fmt.Sprintf("good.md:%d: ", lineOfText(src, c.at))
			for _, p := range ps {
				if strings.HasPrefix(p.Error(), prefix) && strings.Contains(p.Msg, c.want) {
					return
				}
			}
			t.Errorf("want %s…%s…; got %v", prefix, c.want, ps)
		})
	}
}

func TestCheckFailsAChoiceTheRunDoesNotSettle(t *testing.T) {
	for _, c := range []struct{ options, want string }{
		{"  - {text: Some are lost, when: lost > 0}\n  - {text: Any number, when: lost >= 0}\n", "options 1 and 2 both hold"},
		{"  - {text: Invented, when: phantom > 0}\n  - {text: Doubled, when: duplicate_effects > 0}\n", "no option holds"},
	} {
		src, ps := checkChanged(t, "number: lost\nmax: 50\n", "choice:\n"+c.options)
		at := fmt.Sprintf("good.md:%d: ", lineOfText(src, "## Predict"))
		if len(ps) == 0 || !strings.HasPrefix(ps[0].Error(), at) || !strings.Contains(ps[0].Msg, c.want) {
			t.Errorf("want %s…%s…; got %v", at, c.want, ps)
		}
	}
}

func TestRunChallengeRefusesAChangeItDoesNotAllow(t *testing.T) {
	l, err := Parse("good.md", []byte(readGood(t)))
	if err != nil {
		t.Fatal(err)
	}
	c := l.Steps[4].Challenge
	sc := c.Start
	sc.Faults = sc.Faults.Set(sim.BusPublishFail, 0)
	_, err = c.Check(context.Background(), Answer{Scenario: sc})
	var in *sim.InputError
	if !errors.As(err, &in) || in.Field != "faults" || !strings.Contains(in.Msg, "keeps fault bus.publish.fail at 0.2; you may change: design") {
		t.Errorf("turning the fault off: %v; want an input error on faults", err)
	}
	sc = c.Start
	sc.Payments = MaxPayments + 1
	c.May = append(c.May, "payments")
	_, err = c.Check(context.Background(), Answer{Scenario: sc})
	if !errors.As(err, &in) || in.Field != "payments" {
		t.Errorf("a run bigger than a lesson's: %v; want an input error on payments", err)
	}
	sc = c.Start
	sc.Design = "outbox"
	v, err := c.Check(context.Background(), Answer{Scenario: sc})
	if err != nil || !v.Solved {
		t.Errorf("outbox: %+v %v; want solved (no loss, no phantom under publish failures alone)", v, err)
	}
	sc.Design = "retry-naive"
	v, err = c.Check(context.Background(), Answer{Scenario: sc})
	if err != nil || v.Solved || !strings.Contains(v.Why, "does not measure lost") {
		t.Errorf("a design without a ledger: %+v %v; want unsolved, saying it does not measure lost", v, err)
	}
	v, err = c.Check(context.Background(), c.StartAnswer())
	if err != nil || v.Solved || !strings.HasPrefix(v.Why, "Not yet: lost is ") {
		t.Errorf("start: %+v %v", v, err)
	}
}

func builtinChallenge(t *testing.T, id string) *Challenge {
	t.Helper()
	ls, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	l, ok := ByID(ls, id)
	if !ok {
		t.Fatalf("no lesson %q", id)
	}
	for _, st := range l.Steps {
		if st.Challenge != nil {
			return st.Challenge
		}
	}
	t.Fatalf("lesson %q has no challenge", id)
	return nil
}

func TestQueryChallengeWantsExactlyTheLostPayments(t *testing.T) {
	c := builtinChallenge(t, "reconcile")
	ids, err := c.Expected()
	if err != nil || len(ids) == 0 {
		t.Fatalf("expected ids %v, %v", ids, err)
	}
	res, err := sim.Run(c.Start, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != res.Report.Lost {
		t.Fatalf("%d ids marked lost; the report counts %d", len(ids), res.Report.Lost)
	}
	list := strings.Join(ids, ",")
	ctx := context.Background()
	for _, q := range []struct {
		sql    string
		solved bool
		why    string
	}{
		{"SELECT id FROM payments WHERE id IN (" + list + ")", true, "Solved"},
		{"SELECT id FROM payments WHERE id IN (" + list + ") ORDER BY id DESC", true, "Solved"},
		{"SELECT id FROM payments WHERE id IN (" + list + ") AND id <> " + ids[0], false, "it misses 1 of the"},
		{"SELECT id FROM payments WHERE id IN (" + list + ") OR id = 0 OR id IN (SELECT min(id) FROM payments WHERE id NOT IN (" + list + "))", false, "1 of its ids are not lost"},
		{"SELECT id FROM payments WHERE id IN (" + list + ") UNION ALL SELECT " + ids[0], false, "appears more than once"},
		{"SELECT 'x'", false, "not a payment id"},
	} {
		v, err := c.Check(ctx, Answer{Query: Query{DB: "service.db", SQL: q.sql}})
		if err != nil || v.Solved != q.solved || !strings.Contains(v.Why, q.why) {
			t.Errorf("%s: %+v %v; want solved=%v, %q", q.sql, v, err, q.solved, q.why)
		}
	}
	_, err = c.Check(ctx, Answer{Query: Query{DB: "service.db", SQL: "DELETE FROM payments"}})
	var in *sim.InputError
	if !errors.As(err, &in) || in.Field != "sql" {
		t.Errorf("a write: %v; want an input error on sql", err)
	}
	_, err = c.Check(ctx, Answer{Query: Query{DB: "nowhere.db", SQL: "SELECT 1"}})
	if !errors.As(err, &in) || in.Field != "db" {
		t.Errorf("an unknown database: %v; want an input error on db", err)
	}
}

func TestReviewChallengeIsJudgedByTheCompareVerdicts(t *testing.T) {
	c := builtinChallenge(t, "review")
	want, err := c.Expected()
	if err != nil || len(want) < 2 {
		t.Fatalf("failing items %v, %v", want, err)
	}
	ctx := context.Background()
	v, err := c.Check(ctx, Answer{Items: want})
	if err != nil || !v.Solved {
		t.Errorf("the failing items: %+v %v", v, err)
	}
	v, err = c.Check(ctx, Answer{Items: append(want[1:], "atomic-publish")})
	if err != nil || v.Solved || v.Why != "Not yet: "+fmt.Sprint(len(want)-1)+" of your picks fail, 1 holds or is not tested, 1 failing item is missing." {
		t.Errorf("one wrong, one missing: %+v %v", v, err)
	}
	_, err = c.Check(ctx, Answer{Items: []string{"atomic-publishing"}})
	var in *sim.InputError
	if !errors.As(err, &in) || in.Field != "items" {
		t.Errorf("an unknown item: %v; want an input error on items", err)
	}
}

func TestPredictionValidateRefusesOutOfRangeAnswers(t *testing.T) {
	p := &Prediction{Key: "lost", Min: 0, Max: 200}
	var in *sim.InputError
	if err := p.Validate(201); !errors.As(err, &in) || in.Field != "prediction" || !strings.Contains(in.Msg, "allowed: 0 to 200") {
		t.Errorf("201: %v", err)
	}
	if err := p.Validate(200); err != nil {
		t.Errorf("200: %v", err)
	}
	c := &Prediction{Options: []Option{{Text: "a"}, {Text: "b"}}}
	if err := c.Validate(2); !errors.As(err, &in) || !strings.Contains(in.Msg, "allowed: 0 to 1") {
		t.Errorf("choice 2 of 2: %v", err)
	}
}
