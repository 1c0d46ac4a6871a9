/* sk1 reference encoder (see ../PROTOCOL.md). Portable C99, no heap, no I/O:
 * every function writes into a caller-supplied buffer and returns its length. */
#ifndef SK1_H
#define SK1_H
#include <stddef.h>
#include <stdint.h>

#define SK1_VERSION 1
#define SK1_MAX_RAW 240
#define SK1_MAX_WIRE (SK1_MAX_RAW + 2)
#define SK1_HEADER_SIZE 8
#define SK1_MAX_BODY (SK1_MAX_RAW - SK1_HEADER_SIZE - 2)

enum sk1_type {
    SK1_DEVICE_INFO = 0x01, SK1_STREAM_INFO = 0x02, SK1_EMG_BLOCK = 0x10,
    SK1_IMU_BLOCK = 0x11, SK1_STATUS = 0x20, SK1_MARKER = 0x21, SK1_COMMAND = 0x30
};
enum sk1_kind { SK1_KIND_EMG = 1, SK1_KIND_IMU = 2 };
enum sk1_format { SK1_INT16 = 1, SK1_INT24 = 2 };
enum sk1_unit { SK1_UNIT_V = 1, SK1_UNIT_MS2 = 2, SK1_UNIT_RADS = 3, SK1_UNIT_T = 4 };

typedef struct {
    uint16_t seq; /* next sequence number, one counter for all frames sent */
} sk1_encoder;

typedef struct {
    const char *label;
    float scale;
    uint8_t unit;
} sk1_channel;

uint16_t sk1_crc16(const uint8_t *data, size_t len);
/* COBS-encode len bytes of src into dst (room for len + len/254 + 1); returns bytes written. */
size_t sk1_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst);
/* Wrap a body into a wire frame (COBS + 0x00) in out[SK1_MAX_WIRE]; returns its length,
 * 0 if the body is too long. Uses and advances enc->seq. */
size_t sk1_frame(sk1_encoder *enc, uint8_t type, uint32_t device_time_us,
                 const uint8_t *body, size_t body_len, uint8_t *out);

size_t sk1_device_info_body(uint8_t n_streams, uint32_t serial, const uint8_t fw[3],
                            const char *name, uint8_t *body);
/* Describes channels [first, first+count) of a stream; returns 0 if they do not fit. */
size_t sk1_stream_info_body(uint8_t stream_id, uint8_t kind, uint8_t format, uint8_t n_channels,
                            float rate_hz, const char *name, uint8_t first, uint8_t count,
                            const sk1_channel *channels, uint8_t *body);
/* values: n_samples x n_channels, sample-major; returns 0 if they do not fit. */
size_t sk1_block_body(uint8_t stream_id, uint8_t format, uint8_t n_channels, uint8_t n_samples,
                      uint32_t first_index, const int32_t *values, uint8_t *body);
size_t sk1_status_body(uint8_t battery_percent, uint16_t battery_mv, uint8_t flags,
                       uint32_t lead_off, uint32_t saturation, uint8_t *body);
size_t sk1_marker_body(uint8_t source, uint8_t code, const char *text, uint8_t *body);
size_t sk1_command_body(uint8_t command, const uint8_t *args, size_t n_args, uint8_t *body);
#endif
