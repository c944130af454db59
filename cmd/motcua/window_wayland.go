//go:build wayland

package main

// waylandBuild says whether Fyne was built for Wayland (tag wayland).
const waylandBuild = true
