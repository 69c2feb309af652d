// Package layers holds no code: its tests pin which Berth packages may
// import which, so the boundaries of DESIGN.md cannot erode silently.
package layers
