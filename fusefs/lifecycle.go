package fusefs

import (
	"fmt"
)

// Detach takes the mount out of the file tree at once, even while files on
// it are open (a lazy unmount): nothing new can be opened, files already
// open keep being served, and once the last is closed the kernel ends the
// session and Wait returns.
func (m *Mount) Detach() error {
	if err := lazyUnmount(m.dir); err != nil {
		return fmt.Errorf("detach %s: %w", m.dir, err)
	}
	return nil
}

// Wait blocks until the server stops (after Unmount, or after Detach once
// every open file is closed) and frees what the mount held.
func (m *Mount) Wait() {
	m.Server.Wait()
	m.models.close()
	m.chunks.Close()
}
