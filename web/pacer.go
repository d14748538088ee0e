package web

// paceLocked starts a pacer when the session's run plays at a finite speed
// and stops it otherwise. ss.mu is held.
func (ss *session) paceLocked() {
	if !ss.pb.playing || ss.pb.speed == 0 || ss.closed {
		ss.stopPacerLocked()
		return
	}
	if ss.pacerStop != nil {
		return
	}
	stop := make(chan struct{})
	ss.pacerStop = stop
	ss.wg.Add(1)
	go ss.pace(stop)
}

// stopPacerLocked stops the running pacer, if any. ss.mu is held.
func (ss *session) stopPacerLocked() {
	if ss.pacerStop != nil {
		close(ss.pacerStop)
		ss.pacerStop = nil
	}
}

// pace moves the playhead on every tick of the clock while the run plays,
// then wakes the followers. It never touches a socket, so a follower that
// reads slowly only gets bigger batches; it ends when the run reaches its
// end, is paused or replaced, or the session closes.
func (ss *session) pace(stop chan struct{}) {
	defer ss.wg.Done()
	t := ss.clock.NewTicker(frameInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C():
			ss.mu.Lock()
			if ss.pacerStop != stop { // stopped while the tick was pending
				ss.mu.Unlock()
				return
			}
			ss.pb.advance(now)
			ss.changedLocked() // stops this pacer at the end
			playing := ss.pacerStop == stop
			followers := ss.followersLocked()
			ss.mu.Unlock()
			for _, f := range followers {
				f.poke()
			}
			if !playing {
				return
			}
		}
	}
}
