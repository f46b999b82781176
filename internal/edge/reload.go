package edge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/authsvc/authsvc/internal/edge/rules"
)

// reloadSettle is how long the watcher waits after the last change event before reading the file:
// editors and ConfigMap updates write in several steps.
const reloadSettle = 100 * time.Millisecond

// Watcher reloads the rules file into an engine when it changes. A file that does not validate is
// logged and counted (authsvc_edge_rules_reloads_total{result="error"}) and the rules in force
// stay.
//
// It watches the file's directory with fsnotify rather than polling the file's mtime: a reload
// lands within a fraction of a second, without a timer on every replica, and a directory watch
// also sees the file replaced by a rename (editors, atomic writes) and a Kubernetes ConfigMap
// update (a swap of the ..data symlink, which leaves the file's own path untouched). Only events on
// the file's own name and on Kubernetes' ".."-prefixed entries (..data and the timestamped
// directories it points to) start the settle timer (relevant): other files in the directory, such
// as a log written beside the rules, neither cost a read nor, by resetting the timer on every line,
// hold a reload back forever. Content that has not changed is not parsed again.
type Watcher struct {
	path    string
	name    string // the file's base name, which relevant compares events with
	target  string // when the file is a symlink to a file in the same directory, that file's name
	engine  *Engine
	metrics *Metrics
	log     *slog.Logger
	w       *fsnotify.Watcher
	last    []byte
	done    chan struct{}
	once    sync.Once
	// reloaded, when set, is called after every attempted reload (tests).
	reloaded func(error)
}

// Load reads and validates the rules file at path: the startup load, whose error stops authsvc.
func Load(path string) (*rules.Set, []byte, error) {
	data, err := os.ReadFile(path) //nolint:gosec // the operator names the rules file
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", EnvRules, err)
	}
	set, err := rules.Parse(path, data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", EnvRules, err)
	}
	return set, data, nil
}

// Watch starts watching path (already loaded into e from content) until Close.
func Watch(path string, content []byte, e *Engine, m *Metrics, log *slog.Logger) (*Watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("%s: watch: %w", EnvRules, err)
	}
	if err := fw.Add(filepath.Dir(path)); err != nil {
		_ = fw.Close()
		return nil, fmt.Errorf("%s: watch %s: %w", EnvRules, filepath.Dir(path), err)
	}
	w := &Watcher{path: path, name: filepath.Base(path), target: sameDirTarget(path), engine: e, metrics: m, log: log, w: fw, last: content, done: make(chan struct{})}
	go w.run()
	return w, nil
}

func (w *Watcher) run() {
	defer close(w.done)
	var timer *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case ev, ok := <-w.w.Events:
			if !ok {
				return
			}
			if !w.relevant(ev.Name) {
				continue
			}
			if timer == nil {
				timer = time.NewTimer(reloadSettle)
			} else {
				timer.Reset(reloadSettle)
			}
			fire = timer.C
		case err, ok := <-w.w.Errors:
			if !ok {
				return
			}
			w.log.Warn("edge: watching the rules file failed", "error", err.Error())
		case <-fire:
			fire = nil
			err := w.reload()
			if w.reloaded != nil {
				w.reloaded(err)
			}
		}
	}
}

// relevant reports whether an event on name (a path in the watched directory) can change what the
// rules path reads: the file itself (written in place, or replaced by a rename or a new file), or an
// entry whose name starts with "..", as Kubernetes names the ..data symlink it swaps and the
// directories behind it when a ConfigMap or Secret volume is updated.
func (w *Watcher) relevant(name string) bool {
	base := filepath.Base(name)
	return base == w.name || (w.target != "" && base == w.target) || strings.HasPrefix(base, "..")
}

// sameDirTarget is the name of the file path links to when that file is in path's own directory
// (rules.yaml -> rules-v2.yaml, edited in place), so its events count as the rules file's; "" when
// path is no symlink or links elsewhere (a ConfigMap's ..data, which relevant already covers).
func sameDirTarget(path string) string {
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return ""
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(path))
	if err != nil || filepath.Dir(resolved) != dir {
		return ""
	}
	if base := filepath.Base(resolved); base != filepath.Base(path) {
		return base
	}
	return ""
}

// errUnchanged: the file's content is the one in force.
var errUnchanged = errors.New("unchanged")

func (w *Watcher) reload() error {
	ctx := context.Background()
	w.target = sameDirTarget(w.path) // the link may have been pointed elsewhere
	data, err := os.ReadFile(w.path)
	if err != nil {
		// Removed or unreadable for a moment (an editor's save, a ConfigMap swap); the next event
		// retries. The rules in force stay.
		w.metrics.reloaded(ctx, false)
		w.log.Error("edge: rules file unreadable; the previous rules stay in force", "error", err.Error())
		return err
	}
	if bytes.Equal(data, w.last) {
		return errUnchanged
	}
	set, err := rules.Parse(w.path, data)
	if err != nil {
		w.metrics.reloaded(ctx, false)
		w.log.Error("edge: rules file does not validate; the previous rules stay in force", "error", err.Error())
		return err //nolint:wrapcheck // names the file, line and field
	}
	w.last = data
	w.engine.SetRules(set)
	w.metrics.reloaded(ctx, true)
	w.log.Info("edge: rules reloaded", "file", w.path, "rules", len(set.Rules()))
	return nil
}

// Close stops watching and waits for the watcher's goroutine.
func (w *Watcher) Close() error {
	var err error
	w.once.Do(func() {
		err = w.w.Close()
		<-w.done
	})
	return err //nolint:wrapcheck // fsnotify's close error
}
