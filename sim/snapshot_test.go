package sim

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestSchemasListEachDesignsDatabasesInSetupOrder(t *testing.T) {
	want := map[string][]string{
		"dual-write":          {"service.db", "bus.db", "ledger.db"},
		"outbox-idempotent":   {"service.db", "bus.db", "ledger.db"},
		"retry-naive":         {"service.db"},
		"decide-from-replica": {"service.db", "replica.db"},
		"partition-ap":        {"region-a.db", "region-b.db"},
		"consumer-naive":      {"service.db", "bus.db", "orders.db"},
	}
	for _, d := range Designs() {
		dbs, err := Schemas(d.Name)
		if err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		var names []string
		for _, db := range dbs {
			names = append(names, db.Name)
			if len(db.Tables) == 0 {
				t.Errorf("%s: %s lists no tables", d.Name, db.Name)
			}
			for _, tb := range db.Tables {
				if !strings.HasPrefix(tb.Schema, "CREATE TABLE "+tb.Name) {
					t.Errorf("%s: %s: table %s has schema %q", d.Name, db.Name, tb.Name, tb.Schema)
				}
			}
		}
		if w, ok := want[d.Name]; ok && !slices.Equal(names, w) {
			t.Errorf("%s: databases %v, want %v", d.Name, names, w)
		}
	}
	dbs, _ := Schemas("outbox")
	outbox := dbs[0].Tables[1]
	if outbox.Name != "outbox" || len(outbox.Indexes) != 1 || !strings.Contains(outbox.Indexes[0], "outbox_unsent") {
		t.Errorf("service.db's second table: got %+v, want outbox with its outbox_unsent index", outbox)
	}
}

func TestSchemasOfAnUnknownDesignNameTheField(t *testing.T) {
	_, err := Schemas("triple-write")
	var ie *InputError
	if !errors.As(err, &ie) || ie.Field != "design" {
		t.Fatalf("got %v, want an InputError for design", err)
	}
}

// Every database the listing names has its image, a whole SQLite file;
// a name the run does not have has none.
func TestSnapshotHoldsAnImageOfEachListedDatabase(t *testing.T) {
	_, snap, err := RunSnapshot(scenario("decide-from-replica", 1, 5, Faults{}))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, db := range snap.Databases() {
		names = append(names, db.Name)
		image, ok := snap.Image(db.Name)
		if !ok || !bytes.HasPrefix(image, []byte("SQLite format 3\x00")) {
			t.Errorf("%s: image %.16q, %v; want a SQLite file", db.Name, image, ok)
		}
	}
	if !slices.Equal(names, []string{"service.db", "replica.db"}) {
		t.Errorf("databases %v", names)
	}
	for _, name := range []string{"", "ledger.db", "SERVICE.DB"} {
		if image, ok := snap.Image(name); ok || image != nil {
			t.Errorf("Image(%q) = %d bytes, %v; want none", name, len(image), ok)
		}
	}
	if snap.Size() <= 0 || (*Snapshot)(nil).Size() != 0 {
		t.Errorf("Size: %d, nil: %d", snap.Size(), (*Snapshot)(nil).Size())
	}
}
