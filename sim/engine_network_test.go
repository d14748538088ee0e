package sim

import "testing"

// A channel number is part of every network fault's key: newChannel refuses
// one already taken, as well as 0 and numbers past maxChannels.
func TestNewChannelRefusesATakenOrOutOfRangeNumber(t *testing.T) {
	for _, id := range []channel{chRequest, chForward, 0, maxChannels} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("newChannel(%d) did not panic", id)
				}
			}()
			newChannel(id, "test")
		}()
	}
}
