// Package shared holds no code of its own: its folders are the packages the
// functions share, one folder per feature (customers, catalog, events,
// recommendations, segments) plus platform (cross-cutting pieces) and local
// (tooling no function links). docs/architecture.md is the map; this
// package's test holds the tree to the dependency rules written there.
package shared
