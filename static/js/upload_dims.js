/* The pixel size of picked files, read from their headers, for the upload preview.
 *
 * The preview sends name -> [width, height] (sizes_json) for every file whose header this
 * reads (JPEG, PNG, WebP); the server applies the ingest's own size rule to them
 * (images.size_refusal: too small, over the pixel limit) and lists those files as refused,
 * out of "N files -> M products". Nothing here decides: no limit is copied into the page.
 * TIFF, HEIC and AVIF are not read (their size is decided on arrival, as before). Only the
 * header is read (the first 64 KB, more only for a JPEG whose metadata runs past it), never
 * the pixels. Sizes are kept per File object, so a new preview (an edited rule) reads nothing.
 *
 * upload.js calls CutroomUploadDims.sizes(files) before it asks for a preview, and
 * CutroomUploadDims.mark(preview, items) after, which says "Will be refused: …" on the rows
 * of the files the preview refused for their size (they are still sent: the import's report
 * then gives the reason in its own words, as for an empty file).
 */
(function () {
  "use strict";

  const known = new WeakMap();  // File -> [w, h] or null
  const JPEG_SCAN_LIMIT = 4 * 1024 * 1024;  // a SOF past 4 MB of metadata: left to the server

  const WINDOW = 64 * 1024;  // one read covers a JPEG's usual headers (EXIF, ICC, SOF)

  /* ``length`` bytes at ``start``, from one WINDOW-sized read kept while the walk stays in
   * it (a read per marker segment made 84 photos cost 0.3-2 s under load). */
  function reader(file) {
    let base = -1;
    let buffer = null;
    return async (start, length) => {
      if (base < 0 || start < base || start + length > base + buffer.byteLength) {
        base = start;
        buffer = await file.slice(start, start + Math.max(WINDOW, length)).arrayBuffer();
      }
      const from = start - base;
      return new DataView(buffer, from, Math.min(length, buffer.byteLength - from));
    };
  }

  async function jpegSize(file) {
    // walk the marker segments from SOI to the first SOFn (not DHT C4, JPG C8, DAC CC)
    const bytesAt = reader(file);
    let offset = 2;
    while (offset < Math.min(file.size, JPEG_SCAN_LIMIT)) {
      const head = await bytesAt(offset, 10);
      if (head.byteLength < 4 || head.getUint8(0) !== 0xff) return null;
      const marker = head.getUint8(1);
      if (marker === 0xff) { offset += 1; continue; }  // fill byte
      if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
        offset += 2;
        continue;
      }
      const length = head.getUint16(2);
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        if (head.byteLength < 9) return null;
        return [head.getUint16(7), head.getUint16(5)];  // width, height
      }
      if (marker === 0xda || length < 2) return null;  // scan data before any frame header
      offset += 2 + length;
    }
    return null;
  }

  async function headerSize(file) {
    const head = new DataView(await file.slice(0, 32).arrayBuffer());
    if (head.byteLength < 26) return null;
    const u8 = (i) => head.getUint8(i);
    const tag = (i) => String.fromCharCode(u8(i), u8(i + 1), u8(i + 2), u8(i + 3));
    if (u8(0) === 0xff && u8(1) === 0xd8) return jpegSize(file);
    if (u8(0) === 0x89 && tag(1).slice(0, 3) === "PNG" && tag(12) === "IHDR") {
      return [head.getUint32(16), head.getUint32(20)];
    }
    if (tag(0) === "RIFF" && tag(8) === "WEBP" && head.byteLength >= 30) {
      const chunk = tag(12);
      const u24 = (i) => u8(i) | (u8(i + 1) << 8) | (u8(i + 2) << 16);
      if (chunk === "VP8X") return [u24(24) + 1, u24(27) + 1];
      if (chunk === "VP8 ") {
        return [head.getUint16(26, true) & 0x3fff, head.getUint16(28, true) & 0x3fff];
      }
      if (chunk === "VP8L") {
        const bits = head.getUint32(21, true);
        return [(bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1];
      }
    }
    return null;
  }

  /* name -> [width, height] for the files whose header gives a size ({name, file} pairs). */
  async function sizes(files) {
    const found = {};
    for (const { name, file } of files) {
      if (!known.has(file)) {
        let size = null;
        try { size = file.size ? await headerSize(file) : null; } catch (e) { size = null; }
        known.set(file, size && size[0] > 0 && size[1] > 0 ? size : null);
      }
      const size = known.get(file);
      if (size) found[name] = size;
    }
    return found;
  }

  /* The rows of the files the preview refused for their size say so (items: upload.js's
   * rows, {file, path, outcome, state}). */
  function mark(preview, items) {
    const refused = new Map();
    for (const li of (preview ? preview.querySelectorAll("[data-preview-sized-file]") : [])) {
      const name = li.querySelector(".name");
      const reason = li.querySelector("[data-preview-reason]");
      if (!name || !reason) continue;
      refused.set(name.textContent, reason.textContent.trim());
    }
    for (const item of items) {
      const reason = refused.get(item.path || item.file.name);
      if (item.state || !reason) {
        if (item.li && item.li.dataset.sized !== undefined) delete item.li.dataset.sized;
        continue;
      }
      item.li.dataset.sized = "";
      item.outcome.textContent = `Will be refused: ${reason}`;
    }
  }

  window.CutroomUploadDims = { sizes: sizes, mark: mark };
})();
