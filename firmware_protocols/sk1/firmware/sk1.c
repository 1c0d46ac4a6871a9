/* sk1 reference encoder; see sk1.h and ../PROTOCOL.md. */
#include "sk1.h"

#include <string.h>

static size_t put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); return 2; }

static size_t put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
    return 4;
}

static size_t put_f32(uint8_t *p, float f) {
    uint32_t v;
    memcpy(&v, &f, 4); /* IEEE-754 binary32 on every supported MCU */
    return put_u32(p, v);
}

static size_t put_cstr(uint8_t *p, const char *s) {
    size_t n = strlen(s) + 1;
    memcpy(p, s, n);
    return n;
}

uint16_t sk1_crc16(const uint8_t *data, size_t len) {
    uint16_t crc = 0xFFFF; /* CRC-16/CCITT-FALSE */
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)data[i] << 8;
        for (int b = 0; b < 8; b++) crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

size_t sk1_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst) {
    size_t out = 1, code_pos = 0;
    uint8_t code = 1;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == 0) {
            dst[code_pos] = code;
            code_pos = out++;
            code = 1;
        } else {
            dst[out++] = src[i];
            if (++code == 0xFF) {
                dst[code_pos] = code;
                code_pos = out++;
                code = 1;
            }
        }
    }
    dst[code_pos] = code;
    return out;
}

size_t sk1_frame(sk1_encoder *enc, uint8_t type, uint32_t device_time_us,
                 const uint8_t *body, size_t body_len, uint8_t *out) {
    uint8_t raw[SK1_MAX_RAW];
    if (body_len > SK1_MAX_BODY) return 0;
    raw[0] = SK1_VERSION;
    raw[1] = type;
    put_u16(raw + 2, enc->seq++);
    put_u32(raw + 4, device_time_us);
    memcpy(raw + SK1_HEADER_SIZE, body, body_len);
    size_t n = SK1_HEADER_SIZE + body_len;
    n += put_u16(raw + n, sk1_crc16(raw, n));
    size_t w = sk1_cobs_encode(raw, n, out);
    out[w++] = 0x00;
    return w;
}

size_t sk1_device_info_body(uint8_t n_streams, uint32_t serial, const uint8_t fw[3],
                            const char *name, uint8_t *body) {
    size_t n = 0;
    body[n++] = n_streams;
    n += put_u32(body + n, serial);
    for (int i = 0; i < 3; i++) body[n++] = fw[i];
    return n + put_cstr(body + n, name);
}

size_t sk1_stream_info_body(uint8_t stream_id, uint8_t kind, uint8_t format, uint8_t n_channels,
                            float rate_hz, const char *name, uint8_t first, uint8_t count,
                            const sk1_channel *channels, uint8_t *body) {
    size_t n = 0;
    body[n++] = stream_id;
    body[n++] = kind;
    body[n++] = format;
    body[n++] = n_channels;
    n += put_f32(body + n, rate_hz);
    body[n++] = first;
    body[n++] = count;
    n += put_cstr(body + n, name);
    for (uint8_t i = 0; i < count; i++) {
        const sk1_channel *c = &channels[first + i];
        if (n + 5 + strlen(c->label) + 1 > SK1_MAX_BODY) return 0;
        n += put_f32(body + n, c->scale);
        body[n++] = c->unit;
        n += put_cstr(body + n, c->label);
    }
    return n;
}

size_t sk1_block_body(uint8_t stream_id, uint8_t format, uint8_t n_channels, uint8_t n_samples,
                      uint32_t first_index, const int32_t *values, uint8_t *body) {
    size_t width = format == SK1_INT24 ? 3 : 2;
    size_t n = 0;
    if (8 + (size_t)n_samples * n_channels * width > SK1_MAX_BODY) return 0;
    body[n++] = stream_id;
    body[n++] = format;
    body[n++] = n_channels;
    body[n++] = n_samples;
    n += put_u32(body + n, first_index);
    for (size_t i = 0; i < (size_t)n_samples * n_channels; i++) {
        uint32_t v = (uint32_t)values[i]; /* two's complement, little-endian, truncated */
        for (size_t b = 0; b < width; b++) body[n++] = (uint8_t)(v >> (8 * b));
    }
    return n;
}

size_t sk1_status_body(uint8_t battery_percent, uint16_t battery_mv, uint8_t flags,
                       uint32_t lead_off, uint32_t saturation, uint8_t *body) {
    size_t n = 0;
    body[n++] = battery_percent;
    n += put_u16(body + n, battery_mv);
    body[n++] = flags;
    n += put_u32(body + n, lead_off);
    return n + put_u32(body + n, saturation);
}

size_t sk1_marker_body(uint8_t source, uint8_t code, const char *text, uint8_t *body) {
    size_t len = strlen(text);
    if (len > 200) return 0;
    body[0] = source;
    body[1] = code;
    memcpy(body + 2, text, len);
    return 2 + len;
}

size_t sk1_command_body(uint8_t command, const uint8_t *args, size_t n_args, uint8_t *body) {
    body[0] = command;
    memcpy(body + 1, args, n_args);
    return 1 + n_args;
}
