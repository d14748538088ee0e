package sim

import "testing"

// A family's tag is part of its keyed decisions: newTag refuses one already
// taken and one among the engine's own.
func TestNewTagRefusesATakenOrEngineNumber(t *testing.T) {
	for _, tag := range []uint64{tagRegion, tagRefund, tagKey, 3} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("newTag(%d) did not panic", tag)
				}
			}()
			newTag(tag)
		}()
	}
}
