// Package layers holds no code: its test pins which Berth packages may
// import which, so the boundaries of DESIGN.md cannot erode silently.
package layers
