// Package layers holds no code: its test pins which Berth packages may
// import which, so the boundaries between them (docs/architecture.md)
// cannot erode silently.
package layers
