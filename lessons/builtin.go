package lessons

import (
	"embed"
	"io/fs"
	"os"
	"sync"
)

//go:embed content/*.md
var content embed.FS

var builtin = sync.OnceValues(func() ([]*Lesson, error) {
	return load(content, "content", "lessons/content")
})

// Builtin returns the lessons built into the binary, in their order,
// parsed once. An error is a broken built-in lesson, as Problems; the
// content test keeps that from ever being released.
func Builtin() ([]*Lesson, error) { return builtin() }

// LoadDir loads a trainer's lessons from a directory on disk (`serve
// -lessons DIR`, `lessons check DIR`).
func LoadDir(dir string) ([]*Lesson, error) {
	return load(osDirFS(dir), ".", dir)
}

func osDirFS(dir string) fs.FS { return os.DirFS(dir) }
