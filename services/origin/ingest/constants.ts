// Tunables of the video ingest (MPEG-TS chunking, ffmpeg, nginx-rtmp). Each value says why.

/** An MPEG-TS packet is always 188 bytes (ISO/IEC 13818-1 §2.4.3). */
export const TS_PACKET_BYTES = 188;
export const TS_SYNC_BYTE = 0x47;
/** PES timestamps run on a 90 kHz clock and wrap at 2^33. */
export const PES_CLOCK_HZ = 90_000;
export const PTS_WRAP = 2 ** 33;

/**
 * A keyframe may end a chunk this much (fraction of the chunk duration) before the chunk's nominal
 * end: encoders place forced keyframes on the nearest frame (12 or 13 frames for 0.5 s at 25 fps),
 * and cutting there keeps every chunk decodable on its own. Without a keyframe in reach, the chunk
 * is cut at the first frame at or after its nominal duration (keyframe=false).
 */
export const KEYFRAME_EARLY_FRACTION = 0.25;

/**
 * ffmpeg's stdout pipe may hand over a few KB at a time; the chunker needs only whole packets, so
 * nothing here depends on read sizes. This bounds the bytes held while resynchronising after garbage.
 */
export const MAX_RESYNC_BYTES = 64 * 1024;

/** How long the origin waits for the first bytes of a broadcast before it gives up (RTMP: OBS may start late). */
export const WAIT_FOR_BROADCAST_MS = 120_000;

/**
 * The origin's RTMP pull is restarted this often while no broadcast has arrived (nginx may not be
 * up yet, or refuses a player before the first publish on some builds).
 */
export const RTMP_PULL_RETRY_MS = 500;

/**
 * How long ffmpeg's RTMP pull may probe the stream before it starts writing (µs): the first chunk
 * waits this long at most when a stream lacks one of audio/video (ffmpeg's default is 5 s).
 */
export const RTMP_ANALYZE_US = 500_000;

/** Lines of ffmpeg's stderr kept to explain a failure. */
export const FFMPEG_STDERR_LINES = 5;

/** x264 preset for the file/lavfi source: fast enough for a 2-core machine, still real x264 work. */
export const X264_PRESET = 'veryfast';

/**
 * A broadcast shorter than its scenario's durationS by more than this many chunks is reported as
 * ended early (broadcaster stopped or was killed) rather than as a normal end.
 */
export const EARLY_END_TOLERANCE_CHUNKS = 1.5;

/** Audio of the lavfi test source: AAC at a bitrate that leaves the rest of the stream to video. */
export const TEST_AUDIO_BITRATE_BPS = 64_000;

/** RTMP application name in ingest/nginx-rtmp.conf: broadcasters push to rtmp://host:port/live/<key>. */
export const RTMP_APP = 'live';

/** Default stream key when none is configured (no key check then). */
export const DEFAULT_STREAM_KEY = 'live';

/** Where Debian's libnginx-mod-rtmp puts the module, then other common places. */
export const RTMP_MODULE_CANDIDATES = [
  '/usr/lib/nginx/modules/ngx_rtmp_module.so',
  '/usr/lib64/nginx/modules/ngx_rtmp_module.so',
  '/usr/local/nginx/modules/ngx_rtmp_module.so',
];
export const NGINX_MODULES_AVAILABLE = '/usr/share/nginx/modules-available';

/** nginx gets this long to exit after SIGQUIT (graceful) before SIGTERM, then SIGKILL. */
export const NGINX_STOP_GRACE_MS = 3_000;
