// Package video shows the short instructional videos that procedures name
// (procedure.Video): a Player runs mpv fullscreen as a child process and
// stops it over mpv's JSON IPC socket on a tap, a timeout or a cancelled
// context; a Maker renders slide videos with a Vietnamese voice-over
// (espeak-ng, ffmpeg), and EnsureSample puts the sample one in the data
// directory so that the feature can be tried without downloads.
package video
