"""Research sessions: record the clean video with per-frame results and event markers into a folder,
read such a folder back for review, and summarise it into a report.

A session folder holds:
    session.json        metadata, settings and the list of closed video segments (written atomically)
    frames.csv          the results schema plus `wall_time` and `video_frame`, flushed every frame
    markers.csv         `time_s, video_frame, wall_time, key, label, note`, flushed every marker
    segment_NNNN.avi    the clean source frames (MJPG), a few seconds each, every one a complete file

Modules (none imports Qt; import them directly, this package module stays light for the CLI):
    fer_live.sessions.recorder   Recorder, SessionMetadata
    fer_live.sessions.reader     Session, SessionVideo
    fer_live.sessions.summary    interval and per-face statistics (pure functions)
    fer_live.sessions.files      file names, Marker, marker labels, reading session files
"""
