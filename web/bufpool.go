package web

import "sync"

// writeBuffers lends write buffers to sockets only while they write a
// message, so an idle viewer holds none (see the idle-viewer benchmark).
var writeBuffers sync.Pool
