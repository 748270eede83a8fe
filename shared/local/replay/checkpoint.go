package replay

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Checkpoint makes a load resumable: it records how many of a source's
// events (a contiguous prefix, in sending order) have an answer, so that a
// load stopped part way (Ctrl-C, a crash, a closed laptop) goes on from
// there instead of sending everything again. The file is removed when a
// load ends with every event answered.
type Checkpoint struct {
	// Path is the checkpoint file.
	Path string
	// Source identifies the data: a checkpoint of another source (another
	// file, or the same path changed since) is ignored.
	Source string
	// Every is how often progress is written; 2s when 0.
	Every time.Duration

	mu      sync.Mutex
	written time.Time
}

// checkpointFile is the stored form of a checkpoint.
type checkpointFile struct {
	Source string    `json:"source"`
	Events int       `json:"events"`
	Done   int       `json:"done"`
	At     time.Time `json:"at"`
}

// SourceOf identifies a data file by its absolute path, size and
// modification time.
func SourceOf(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s %d %s", abs, st.Size(), st.ModTime().UTC().Format(time.RFC3339Nano)), nil
}

// done returns how many of total events a previous load of the same
// source answered; 0 when there is no usable checkpoint.
func (c *Checkpoint) done(total int) (int, error) {
	if c == nil {
		return 0, nil
	}
	b, err := os.ReadFile(c.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read checkpoint: %w", err)
	}
	var f checkpointFile
	if err := json.Unmarshal(b, &f); err != nil || f.Source != c.Source || f.Events != total || f.Done < 0 || f.Done > total {
		return 0, nil
	}
	return f.Done, nil
}

// save records that the first done of total events are answered, at most
// once per Every unless force is set.
func (c *Checkpoint) save(done, total int, force bool) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	every := c.Every
	if every <= 0 {
		every = 2 * time.Second
	}
	if !force && time.Since(c.written) < every {
		return nil
	}
	c.written = time.Now()
	b, err := json.Marshal(checkpointFile{Source: c.Source, Events: total, Done: done, At: c.written.UTC()})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.Path), 0o755); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	tmp := c.Path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if err := os.Rename(tmp, c.Path); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	return nil
}

// clear removes the checkpoint once a load is complete.
func (c *Checkpoint) clear() error {
	if c == nil {
		return nil
	}
	if err := os.Remove(c.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove checkpoint: %w", err)
	}
	return nil
}
