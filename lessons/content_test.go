package lessons

import (
	"context"
	"testing"
)

func TestBuiltinLessonsPassTheirCheck(t *testing.T) {
	ls, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		for _, p := range Check(context.Background(), l) {
			t.Error(p)
		}
	}
}
