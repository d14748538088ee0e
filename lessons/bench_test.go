package lessons

import (
	"context"
	"testing"
)

// BenchmarkCheckBuiltin is `lessons check` over every built-in lesson,
// parsed afresh each time so that no run is cached: the budget is
// 10 s on one core.
//
//	go test ./lessons -run '^$' -bench CheckBuiltin -benchtime 3x -count 3 -cpu 1
func BenchmarkCheckBuiltin(b *testing.B) {
	for b.Loop() {
		ls, err := load(content, "content", "lessons/content")
		if err != nil {
			b.Fatal(err)
		}
		if ps := CheckAll(context.Background(), ls); len(ps) > 0 {
			b.Fatal(ps)
		}
	}
}
