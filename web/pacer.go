package web

// pacePlaybackLocked starts a pacer when the run plays at a finite speed
// and stops it otherwise. v.mu is held.
func (v *viewer) pacePlaybackLocked() {
	if !v.pb.playing || v.pb.speed == 0 {
		v.stopPacerLocked()
		return
	}
	if v.pacerStop != nil {
		return
	}
	stop := make(chan struct{})
	v.pacerStop = stop
	v.wg.Add(1)
	go v.pace(stop)
}

// stopPacerLocked stops the running pacer, if any. v.mu is held.
func (v *viewer) stopPacerLocked() {
	if v.pacerStop != nil {
		close(v.pacerStop)
		v.pacerStop = nil
	}
}

// pace moves the playhead on every tick of the clock while the run plays,
// then pokes the writer. It never touches the socket, so a viewer that
// reads slowly only gets bigger batches; it ends when the run reaches its
// end, is paused or replaced, or the viewer goes away.
func (v *viewer) pace(stop chan struct{}) {
	defer v.wg.Done()
	t := v.s.clock.NewTicker(frameInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-v.ctx.Done():
			return
		case now := <-t.C():
			v.mu.Lock()
			if v.pacerStop != stop { // stopped while the tick was pending
				v.mu.Unlock()
				return
			}
			v.pb.advance(now)
			playing := v.pb.playing
			if !playing {
				v.pacerStop = nil
			}
			v.mu.Unlock()
			v.poke()
			if !playing {
				return
			}
		}
	}
}
