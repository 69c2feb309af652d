// Package layers holds no code: its tests pin which Berth packages may
// import which, so the boundaries docs/architecture.md draws cannot erode
// silently.
package layers
