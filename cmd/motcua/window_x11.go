//go:build !wayland

package main

// waylandBuild says whether Fyne was built for Wayland (tag wayland); by
// default it opens X11 windows.
const waylandBuild = false
