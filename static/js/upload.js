/* Browser uploads for Cutroom: drag-and-drop or pick files/folders, one file per request.
 *
 * Every [data-uploader] element is one uploader. Files are sent one per request, a few at a
 * time, so each has its own progress bar, the overall bar is honest, a bad file fails alone,
 * and neither the browser nor the server ever holds the whole batch.
 *
 *   data-upload-url   POST each file here (a product page)
 *   data-session-url  first POST the options form here; the JSON answer names the upload URL
 *                     (and a finish URL for an import job)
 *   data-autostart    "true": start as soon as files are dropped or picked
 *   data-refresh-url / data-refresh-target: reloaded through htmx once a batch is done
 *   data-count-target  an element holding the page's image count (a product page's
 *                     "Images (N)", the number in its data-count): counted up as each file
 *                     is stored, before the refresh
 *   data-recent-url   a page whose [data-recent-imports] section replaces this page's once a
 *                     session is done (the upload page's "Recent imports")
 *
 * Hidden and system files, and every file in a hidden or system folder (.DS_Store,
 * ._IMG.jpg, .hidden.jpg, Thumbs.db, .thumbs/x.jpg, a NAS's @eaDir/: the server's pattern,
 * data-ignored-name, tested on every part of the path) are not sent, nor named in the report
 * (a ZIP import passes over them too), but each has its row, "Ignored" with the reason
 * (data-ignored),
 * and the summary counts them (QA 2026-12-05: a drop lost
 * them without a word). Files whose names are not image file names (the server's rule,
 * given by the drop zone's data-image-extensions and data-not-image) are not sent: they
 * are shown as skipped in the server's words, and a session's start names them for the
 * report, as a ZIP import lists them (nameNotSent: named at the start, the report has them
 * even when the tab is closed before the finish, QA38 H1).
 * Files are sent in name order, and a session's finish lists the files that could not be
 * sent; the server then puts unpositioned files in name order, and the rows say where.
 * Files the preview lists as not mapped (an unknown SKU, a deleted product) or refused for a
 * position another image holds (or an earlier file of this upload names) are not sent
 * either: the server would refuse them. The preview lists every one (the first 50, the rest
 * behind "Show all"); they are marked "will be skipped" with the preview's reason, left out
 * of the count on the Upload button until new options (or "Replace") map them, and a
 * session's start names them (held) so the report lists them with the server's reason,
 * and the "Not stored" box lists them once the session is done. A file held as not mapped
 * whose first bytes are no image's is sent after all (findUnreadable): the import says it is
 * unreadable, and its row adds the SKU's reason after. While the preview says the
 * options themselves are unusable (a manifest with errors, a bad pattern, a "one product"
 * SKU that names no product) the Upload button is disabled: the server would refuse the
 * session with the same words. Import ZIP is held so too while the ZIP's preview shows such
 * an error (a manifest with errors, in the ZIP or chosen on the page), as for a damaged ZIP.
 * Upload is held too, saying why beside it, while every file it would send is one the
 * preview says the import refuses (0 bytes, too small, too large): nothing would be stored.
 *
 * The preview also marks what the server will certainly refuse or skip (QA 2026-12-05 L3):
 * a 0-byte file (File.size, a ZIP entry's size in its directory) is refused whatever its
 * name, so the preview maps it to no product and its row says so (it is still sent: 0
 * bytes, and the report gives the import's reason); and a file whose bytes look already
 * stored (checkStored: sizes first, then sha256 of the files of a stored size, asked of
 * data-known-url, upload_known.js) is marked a duplicate of its product's image, or a copy of
 * another product's, with "N files look already stored" under the preview's counts. A
 * duplicate of its own product's image is not sent (since 2026-12-05: a re-dropped shoot
 * re-sent every photo): "N already stored — skipped" stands by the Upload button with
 * "Upload again anyway", and the session's start names each with its hash (stored_json),
 * so the server checks it again and the report lists it. A copy of another product's image
 * is sent (the import stores it there too). A file the preview holds for a taken position
 * is checked too: the import looks for a duplicate on the product before it looks at the
 * position, so one found there is an already-stored skip like any other (one mechanism,
 * one wording, since 2026-12-05: it had its own, "identical to the image stored at its
 * position", counted under "position taken" in the preview), and settleStored takes it out
 * of the preview's "position taken" list and count. Any file found stored on the product it
 * maps to (sent again or not: the import skips it) takes no position in the preview's plan:
 * its table line says already stored and the product's "next free" files move up, as the
 * import places them (settleStored). Without SubtleCrypto (plain http)
 * nothing is hashed, so nothing is skipped, and the note says so.
 *
 * A file the server answers 429 (busy: its per-process bound on image decodes, nothing
 * stored) waits for Retry-After (plus jitter, so the lanes do not come back together) and is
 * sent again, at most BUSY_RETRIES times: its row says it is waiting for the server, not an
 * error, and the summary counts the files waiting. Past the bound it fails like a network
 * error (not sent: the session's finish lists it).
 *
 * The preview's size refusals (upload_dims.js) come before "already stored": a file refused
 * for its size is not hashed, as the import refuses it for its header before it looks for a
 * duplicate. A row the page skips as already stored is shown done, its bar full: "Already
 * stored — will be skipped" before the upload, "Already stored — skipped" once begun
 * (storedSkipText, the one wording), and the line under the preview's counts is made again
 * from the rows at every change, so it follows "Upload again anyway" and new options.
 *
 * A [data-zip-form] is sent with XHR too, for an upload progress bar, then the browser goes to
 * the import page, which polls the worker's progress. Its preview reads each image entry's
 * pixel size from its header (the central directory, the local header, then the entry's
 * first bytes, inflated no further than ZIP_HEAD_BYTES) and says how many it could not.
 *
 * upload_known.js (and, where a preview is asked, upload_dims.js) are taken by boot(), once
 * the page's deferred scripts have run in whatever order; without them the page says so.
 *
 * Leaving the page while a batch still has files to send asks first (beforeunload).
 */
(function () {
  "use strict";

  const CONCURRENCY = 3;
  const RETRIES = 2; // network errors and 5xx only: a refused file is an answer, not a failure
  // 429 (the server's decode bound): waits of Retry-After, ~3 s each; 40 is two minutes or more
  const BUSY_RETRIES = 40;
  const BUSY_WAIT_MAX = 60; // seconds: a Retry-After past this is not believed
  const MAX_FINISH_NAMES = 200; // as the server lists at most (imports.MAX_FINISH_NAMES)
  // The "already stored?" walk (upload_known.js) and the helpers it shares, taken by boot()
  // below once the page's scripts have run, whatever their order: a page without it says so
  // instead of failing silently (it was read at load, so the order of the script tags
  // decided whether the page worked).
  let checkStored, previewTargets, storedNote, showStoredNote, findStoredInZip, settleStored,
    findCopies, byName, plural, el, formatBytes;

  /* The server's order for files without a position (archives.name_order_key): by path,
   * folder by folder, by code point. */
  function byPath(a, b) {
    return byName(a.path || a.file.name, b.path || b.file.name);
  }

  /* The one policy that holds Upload (picked or dropped files) and Import ZIP alike: every
   * file the button would send the import (``toSend``: not the files held back as not mapped,
   * a taken position or already stored) is one the preview says the import refuses (0 bytes,
   * too small, too large: ``refused`` of them). Sent, they only made an import of "0
   * imported, 2 refused" (QA 2026-12-06 L1); one beside a file that may be stored is still
   * sent, so the report says why. null when the button may go, else its title and the note
   * said beside it, in the button's verb ("upload", "import"). */
  function refusesEvery(toSend, refused, verb) {
    if (!(toSend > 0 && refused === toSend)) return null;
    return {
      title: `Nothing to ${verb}: the import would refuse every file.`,
      note: `nothing to ${verb}: the import would refuse ${
        toSend === 1 ? "the file" : `all ${toSend} files`}`,
    };
  }

  /* Whether the preview refused this file for its header size (upload_dims.js marks it). */
  function sizedOut(item) {
    return !!item.li && item.li.dataset.sized !== undefined;
  }

  /* Whether the server passes over a file of this path, never importing or reporting it: a
   * hidden or system file, or any file in a hidden or system folder, by every part of its
   * path (.DS_Store, ._IMG_1.jpg, .hidden.jpg, Thumbs.db, .thumbs/x.jpg, @eaDir/x.jpg/...).
   * The rule is the server's (archives.is_hidden_path with IGNORED_NAME_PATTERN, the drop
   * zone's data-ignored-name, matched ignoring case), so a page and an import never disagree
   * about a name (a ZIP import took the .hidden.jpg a drop ignored; until 2026-12-05 every
   * path took NAS thumbnails in .@__thumb/ or @eaDir/). A path that climbs out or starts at a
   * root (a ZIP's "../.x/a.jpg", "/.x/a.jpg") is not passed over: the server refuses it as
   * traversal and reports it, whatever its other parts. */
  function ignoredName(zone, name) {
    const pattern = zone && zone.dataset.ignoredName;
    if (!pattern) return false; // no rule given: the server decides
    const path = name.replace(/\\/g, "/");
    const parts = path.split("/");
    if (path.includes("\0") || /^(\/|[\s\S]:)/.test(path) || parts.includes("..")) {
      return false;
    }
    const rule = new RegExp(pattern, "i");
    // the parts as the server's PurePosixPath reads them: no empty ones, no "."
    return parts.some((part) => part && part !== "." && rule.test(part));
  }

  /* Which of an upload's paths is its manifest, or null: manifest.csv (any case) at the
   * root, else in the single top folder every other file lies in (a picked folder's
   * shoot/manifest.csv, a ZIP of that folder); hidden and system files (__MACOSX/) count as
   * no folder. The server's rule (archives.manifest_path), for a ZIP's entries and picked or
   * dropped files alike (QA 2026-12-06 F2). */
  function manifestPathOf(zone, names) {
    const tops = new Set();
    let nested = null;
    for (const name of names) {
      if (name.endsWith("/") || ignoredName(zone, name)) continue;
      const parts = name.replace(/\\/g, "/").split("/");
      // a path the import refuses (archives.unsafe_name_reason) is no manifest, nor a folder
      if (name.includes("\0") || parts[0] === "" || /^.:/.test(parts.join("/")) ||
          parts.includes("..")) continue;
      if (parts.length === 1) {
        if (name.toLowerCase() === "manifest.csv") return name;
        tops.add("");  // a file at the root: no single top folder
        continue;
      }
      tops.add(parts[0]);
      if (parts.length === 2 && parts[1].toLowerCase() === "manifest.csv" && nested === null) {
        nested = name;
      }
    }
    return tops.size === 1 ? nested : null;
  }

  /* The page's manifest rule, for the test that holds it to the server's on one table
   * (tests/browser/test_manifest_rule_parity.py, tests/catalog/manifest_scenes.py): the two
   * cannot drift apart unnoticed. */
  window.CutroomUploadRules = Object.freeze({ manifestPathOf: manifestPathOf });

  /* Why the import skips a second manifest beside the upload's (`manifest`: its path), the
   * same path but for case (Manifest.CSV beside manifest.csv), in its words
   * (archives.second_manifest_reason, the drop zone's data-second-manifest); '' for any
   * other file. */
  function secondManifestReason(zone, name, manifest) {
    const words = zone && zone.dataset.secondManifest;
    if (!words || !manifest || name === manifest ||
        name.toLowerCase() !== manifest.toLowerCase()) return "";
    return words.replace("{manifest}", manifest);
  }

  /* '' for an image file name, else why the server would skip it for its name (its words):
   * the name's rule only; what its bytes hold is contentRefusalReason's (named
   * notImageReason until 2026-12-07, lows44: three names alike for three answers). */
  function nameSkipReason(zone, name) {
    const known = (zone && zone.dataset.imageExtensions || "").split(/\s+/).filter(Boolean);
    if (!known.length) return ""; // no rule given: the server decides
    const base = name.split("/").pop();
    const dot = base.lastIndexOf(".");
    const ext = dot > 0 ? base.slice(dot) : "";
    if (ext && known.includes(ext.toLowerCase())) return "";
    // an image format the import does not read (.bmp): the server's words, naming it and
    // what to convert it to (archives.unsupported_image_reason, data-unsupported-images)
    let unsupported = {};
    try { unsupported = JSON.parse(zone.dataset.unsupportedImages || "{}"); } catch (e) { /* */ }
    const words = unsupported[ext.toLowerCase()];
    if (words) return words.replace("{ext}", ext);
    return (zone.dataset.notImage || "Skipped: not an image file name ({ext}).")
      .replace("{ext}", ext || "no extension");
  }

  /* Whether a file's first bytes are those of an image format the server reads (JPEG, PNG,
   * WebP, TIFF, HEIC/HEIF/AVIF): a cheap look, as the import's header probe is, not a
   * decode. An empty file, or text renamed .jpg, is not. */
  async function looksLikeImage(file) {
    if (!file.size) return false;
    const b = new Uint8Array(await file.slice(0, 16).arrayBuffer());
    const ascii = (from, to) => String.fromCharCode(...b.slice(from, to));
    return (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) ||
      (b[0] === 0x89 && ascii(1, 4) === "PNG") ||
      (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") ||
      ["II*\0", "MM\0*", "II+\0", "MM\0+"].includes(ascii(0, 4)) ||  // TIFF, BigTIFF
      ascii(4, 8) === "ftyp";
  }

  /* Whether a file's first bytes read as text (images.looks_like_text): UTF-8, a character
   * cut at the end allowed, with no control character but tab, newlines and form feed. */
  function looksLikeText(bytes) {
    for (let cut = 0; cut < 4 && cut < bytes.length; cut++) {
      let text;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.slice(0,
          bytes.length - cut));
      } catch (e) { continue; }
      return !!text && !/[\x00-\x08\x0b\x0e-\x1f\x7f]/.test(text);
    }
    return false;
  }

  /* Whether the first bytes of a file (a Blob) whose first bytes are no image format's read
   * as text, as many as the import sniffs (images.TEXT_SNIFF_BYTES): the preview is told so
   * (text_heads_json), and the import's words differ (images.not_image_reason). */
  async function headIsText(zone, blob) {
    const sniff = Number(((zone && zone.dataset) || {}).textSniffBytes) || 512;
    try {
      return looksLikeText(new Uint8Array(await blob.slice(0, sniff).arrayBuffer()));
    } catch (e) {
      return false;
    }
  }

  /* Why a file whose first bytes are no image format's will be refused, in the import's
   * words (images.not_image_reason, the server's preview says the same): text (`text`,
   * headIsText) is said to be text, "not JPEG" by its name's extension
   * (images.text_content_reason; QA41 L7: a text file named .jpg in a ZIP was listed among
   * the unread TIFF/HEIC headers), anything else has no image header. (noImageReason until
   * 2026-12-07, lows44.) */
  function contentRefusalReason(zone, name, text) {
    const data = (zone && zone.dataset) || {};
    const noHeader = data.noHeader || "Not an image, or a corrupt one: no JPEG, PNG, WebP, " +
      "TIFF, HEIC/HEIF or AVIF header found.";
    if (!data.textContent || !text) return noHeader;
    let formats = {};
    try { formats = JSON.parse(data.imageFormats || "{}"); } catch (e) { /* none */ }
    const base = name.split("/").pop();
    const dot = base.lastIndexOf(".");
    const ext = dot > 0 ? base.slice(dot).toLowerCase() : "";
    return data.textContent.replace("{format}", formats[ext] || "an image");
  }

  /* What the page found of the files whose first bytes are no image format's, one reading
   * for picked files and a ZIP's entries: `noHeader` (their names, no_header_json: the
   * server's preview neither counts nor places them), `textHeads` (those reading as text,
   * text_heads_json: worded "… text, not JPEG." as the import does, images.not_image_reason)
   * and `add`, which notes one (`blob`: its first bytes) and answers its reason
   * (contentRefusalReason). verify43 L1: the ZIP preview said "not an image" under a plan
   * placing those entries, the server having been told nothing. (notImageFacts until
   * 2026-12-07, lows44.) */
  function contentRefusals(zone) {
    const facts = { noHeader: [], textHeads: [] };
    facts.add = async (name, blob) => {
      const text = await headIsText(zone, blob);
      facts.noHeader.push(name);
      if (text) facts.textHeads.push(name);
      return contentRefusalReason(zone, name, text);
    };
    return facts;
  }

  /* The one wording of a file the page leaves unsent because its bytes are stored on the
   * product it maps to: what it will do before the upload, what it did once begun. */
  function storedSkipText(holder, done) {
    return `Already stored — ${done ? "skipped" : "will be skipped"}: identical to ` +
      `${holder} (not sent)`;
  }

  /* What a file the page sends although its name maps to no product says before it is
   * sent: unreadable first (the import says so, in its words, whatever the name), the
   * name's refusal after. */
  function unreadableNote(skuReason) {
    return "Will be sent for the import to check: its first bytes are not an image's " +
      `(not a readable image, or a corrupt one). Its name also maps to no product: ${skuReason}`;
  }

  // The session ended (a logout in another tab): the answer is the login page, not ours.
  function loggedOut(answer) {
    return !!(window.cutroomSession && window.cutroomSession.loggedOut(answer));
  }

  /* The words of an answer that was the login page, "log in again" the link to it. */
  function sayLoggedOut(elt, text) {
    elt.textContent = text;
    window.cutroomSession.linkLogin(elt, "log in again");
  }

  function csrfToken(root) {
    const input = root.querySelector("input[name=csrfmiddlewaretoken]") ||
      document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* POST a FormData with XHR (fetch has no upload progress). Resolves {status, data,
   * retryAfter, loggedOut} (retryAfter: the Retry-After header in seconds, or null;
   * loggedOut: the answer is the login page, static/js/session.js). */
  function post(url, body, token, onProgress) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("X-CSRFToken", token);
      xhr.setRequestHeader("Accept", "application/json");
      if (onProgress) {
        xhr.upload.addEventListener("progress", (event) => {
          if (event.lengthComputable) onProgress(event.loaded / event.total);
        });
        // every byte sent: the server reads the file now (a 45 MP photo takes ~13 s), and the
        // last progress event need not say 100 %
        xhr.upload.addEventListener("load", () => onProgress(1));
      }
      xhr.addEventListener("load", () => {
        let data = null;
        try {
          data = JSON.parse(xhr.responseText);
        } catch (err) {
          data = null;
        }
        const after = parseInt(xhr.getResponseHeader("Retry-After") || "", 10);
        resolve({ status: xhr.status, data: data, retryAfter: after >= 0 ? after : null,
                  loggedOut: loggedOut(xhr) });
      });
      xhr.addEventListener("error", () => resolve({ status: 0, data: null, retryAfter: null }));
      xhr.addEventListener("abort", () => resolve({ status: 0, data: null, retryAfter: null }));
      xhr.send(body);
    });
  }

  /* Files of a drop, folders walked. Entries must be taken during the event itself. */
  async function filesFromDrop(dataTransfer) {
    const entries = [];
    const loose = [];
    for (const item of Array.from(dataTransfer.items || [])) {
      if (item.kind !== "file") continue;
      const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
      if (entry && entry.isDirectory) entries.push(entry);
      else {
        const file = item.getAsFile();
        if (file) loose.push({ file: file, path: "" });
      }
    }
    if (!entries.length && !loose.length) {
      for (const file of Array.from(dataTransfer.files || [])) loose.push({ file: file, path: "" });
    }
    const walked = [];
    for (const entry of entries) await walk(entry, walked);
    return loose.concat(walked);
  }

  async function walk(entry, out) {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      out.push({ file: file, path: entry.fullPath.replace(/^\//, "") });
      return;
    }
    const reader = entry.createReader();
    // readEntries returns at most ~100 entries per call; keep reading until it is empty.
    for (;;) {
      const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
      if (!batch.length) break;
      for (const child of batch) await walk(child, out);
    }
  }


  /* What zipEntryNames answers for a ZIP whose directory does not describe the file it ends:
   * cut off (a nested ZIP's directory found last), or not starting at byte 0. */
  const ZIP_DAMAGED = "damaged";

  /* Names of a ZIP's entries, read from its central directory at the end of the file: a few
   * kB from a multi-GB archive, nothing uploaded. null when the directory cannot be read here
   * (ZIP64): the preview is then skipped, the import itself still reports. ZIP_DAMAGED when
   * what is read does not add up; the server's ZipSource refuses the same files. The
   * answer's .entries maps each name to where its data is (for zipEntryData) and its
   * uncompressed size (.bytes: 0 is an empty file, refused by the import). */
  async function zipEntryNames(file) {
    const tailSize = Math.min(file.size, 65536 + 22);
    const tail = new DataView(await file.slice(file.size - tailSize).arrayBuffer());
    const head = new DataView(await file.slice(0, 4).arrayBuffer());
    const startsLikeZip = head.byteLength === 4 && head.getUint32(0, true) === 0x04034b50;
    let eocd = -1;
    for (let i = tailSize - 22; i >= 0; i--) {
      if (tail.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
    }
    // a ZIP's first entry but no directory: the end of the file is missing
    if (eocd < 0) return startsLikeZip ? ZIP_DAMAGED : null;
    const count = tail.getUint16(eocd + 10, true);
    const size = tail.getUint32(eocd + 12, true);
    const offset = tail.getUint32(eocd + 16, true);
    if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) return null;
    // The directory ends where its end record starts. A ZIP cut off after a stored nested ZIP
    // ends with the nested one's record, whose offsets count from the nested ZIP's start.
    const eocdAt = file.size - tailSize + eocd;
    if (offset + size !== eocdAt) return ZIP_DAMAGED;
    if (count === 0) return eocdAt === 0 ? [] : ZIP_DAMAGED;
    if (!startsLikeZip) return ZIP_DAMAGED;
    const dir = new DataView(await file.slice(offset, offset + size).arrayBuffer());
    const names = [];
    names.entries = new Map();
    const utf8 = new TextDecoder("utf-8");
    let at = 0;
    let records = 0;
    let firstHeader = Infinity;
    while (at + 46 <= dir.byteLength && dir.getUint32(at, true) === 0x02014b50) {
      records += 1;
      firstHeader = Math.min(firstHeader, dir.getUint32(at + 42, true));
      const nameLength = dir.getUint16(at + 28, true);
      const skip = nameLength + dir.getUint16(at + 30, true) + dir.getUint16(at + 32, true);
      const name = utf8.decode(new Uint8Array(dir.buffer, dir.byteOffset + at + 46, nameLength));
      if (!name.endsWith("/")) {
        // Every file entry goes to the preview, which judges its name as the import does
        // (archives.entry_name_problem: ignored, refused, skipped): a name the page judged
        // itself was one the import refused and the preview never listed (QA31:
        // "..\x.jpg" starts with a dot). `junk` (desktop metadata, a dot file) only spares
        // reading its header and hashing it here.
        names.push(name);
        names.entries.set(name, {
          method: dir.getUint16(at + 10, true), size: dir.getUint32(at + 20, true),
          bytes: dir.getUint32(at + 24, true), header: dir.getUint32(at + 42, true),
          crc: dir.getUint32(at + 16, true),
          encrypted: !!(dir.getUint16(at + 8, true) & 1),
          junk: ignoredName(document.querySelector("[data-dropzone]"), name),
        });
      }
      at += 46 + skip;
    }
    if (records !== count || at !== dir.byteLength || firstHeader !== 0) return ZIP_DAMAGED;
    // the import's manifest (at the root or in the single top folder): sent as its own file
    const manifestName = manifestPathOf(document.querySelector("[data-dropzone]"), names);
    if (manifestName !== null) {
      names.manifest = names.entries.get(manifestName);
      names.manifestName = manifestName;
      names.entries.delete(manifestName);
      names.splice(names.indexOf(manifestName), 1);
    }
    return names;
  }

  /* The manifest.csv of a ZIP (manifestPathOf) as a Blob (stored or deflated), or null when it cannot
   * be read here (another compression, too big, a damaged header). */
  async function zipManifest(file, entry) {
    if (!entry || entry.size > 8 * 1024 * 1024) return null;
    return zipEntryData(file, entry);
  }

  /* An entry's bytes as a Blob: a slice of the ZIP when stored, inflated when deflated
   * (DecompressionStream); null when it cannot be read here (another compression,
   * encrypted, a damaged local header). */
  async function zipEntryData(file, entry) {
    const data = await zipEntryRaw(file, entry);
    if (!data || entry.method === 0) return data;
    const inflated = data.stream().pipeThrough(new DecompressionStream("deflate-raw"));
    return await new Response(inflated).blob();
  }

  /* An entry's bytes as stored in the ZIP (a slice: nothing is read yet), found through its
   * local header; null when they cannot be read here (another compression, encrypted, a
   * damaged local header, no DecompressionStream for a deflated one). */
  async function zipEntryRaw(file, entry) {
    if (!entry || entry.encrypted || ![0, 8].includes(entry.method)) return null;
    if (entry.method === 8 && typeof DecompressionStream === "undefined") return null;
    const local = new DataView(await file.slice(entry.header, entry.header + 30).arrayBuffer());
    if (local.byteLength < 30 || local.getUint32(0, true) !== 0x04034b50) return null;
    const start = entry.header + 30 + local.getUint16(26, true) + local.getUint16(28, true);
    return file.slice(start, start + entry.size);
  }

  /* An entry's first bytes (up to ZIP_HEAD_BYTES), enough for its image header: a stored
   * entry is a slice of the ZIP, a deflated one is inflated that far and no further (a
   * header, not the photo). null when it cannot be read here. */
  const ZIP_HEAD_BYTES = 128 * 1024;
  async function zipEntryHead(file, entry) {
    const data = await zipEntryRaw(file, entry);
    if (!data || entry.method === 0) return data;
    const reader = data.stream().pipeThrough(new DecompressionStream("deflate-raw")).getReader();
    const chunks = [];
    let got = 0;
    try {
      while (got < ZIP_HEAD_BYTES) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        got += value.byteLength;
      }
    } finally {
      reader.cancel().catch(() => {});
    }
    return new Blob(chunks);
  }

  /* name -> [width, height] of a ZIP's image entries whose header upload_dims.js reads
   * (JPEG, PNG, WebP), one entry at a time (a head of at most ZIP_HEAD_BYTES in memory),
   * and the image entries it could not read (their names: TIFF, HEIC, another compression, a
   * JPEG whose frame header lies further in): the import decides those on arrival; and the
   * entries whose first bytes are no image's (contentRefusals, for the server's preview). */
  async function zipEntrySizes(file, entries, current) {
    const sizes = {};
    const unread = [];
    const zone = document.querySelector("[data-dropzone]");
    const notImages = contentRefusals(zone);  // entries whose first bytes are no image's
    for (const [name, entry] of entries) {
      if (!entry.bytes || entry.junk || nameSkipReason(zone, name)) continue;
      let head = null;
      try { head = await zipEntryHead(file, entry); } catch (e) { head = null; }
      if (!current()) return null;
      const found = head ? await window.CutroomUploadDims.sizes([{ name: name, file: head }])
        : {};
      if (found[name]) {
        sizes[name] = found[name];
      } else if (head && !(await looksLikeImage(head).catch(() => true))) {
        // not an image of a size unknown here: the import refuses it for its content
        await notImages.add(name, head);
      } else {
        unread.push(name);
      }
      if (!current()) return null;
    }
    return { sizes: sizes, unread: unread, notImages: notImages };
  }

  /* A line under a preview's counts (its summary), `text` with `names` (at most
   * UNREAD_NAMES_SHOWN, then "and N more"): one way for the notes below. None when the
   * preview is an error. */
  const UNREAD_NAMES_SHOWN = 5;
  function previewNote(target, names, className, key, text, end) {
    const result = target && target.querySelector("[data-import-preview-result]");
    if (!names.length || !result || result.querySelector(":scope > .error")) return;
    const line = document.createElement("p");
    line.className = className;
    line.dataset[key] = "";
    const more = names.length - UNREAD_NAMES_SHOWN;
    line.textContent = text + names.slice(0, UNREAD_NAMES_SHOWN).join(", ") +
      (more > 0 ? ` and ${more} more` : "") + end;
    const summary = result.querySelector(".preview-summary");
    if (summary) summary.after(line); else result.prepend(line);
  }

  /* "N files: pixel size not read in the browser …: sizes checked on import: a.tif, b.heic."
   * under a preview's counts, for the image files whose header size the page could not read
   * (TIFF, HEIC, AVIF, …), by name (QA38 M4: "1 file" said not which): said, not implied,
   * since the preview cannot refuse these for their size. One line for a ZIP's entries and
   * for picked or dropped files alike (`unread`: their names). */
  function showSizesUnread(target, unread) {
    previewNote(target, unread, "muted small", "previewSizesUnread",
      `${plural(unread.length, "file")}: pixel size not read in the browser (TIFF, HEIC or ` +
      "AVIF, another compression, or a header further in): sizes checked on import: ", ".");
  }

  /* Ask the server where these names would go; its answer is an escaped HTML fragment. */
  async function showPreview(url, form, names, target, zipManifestBlob, withProduct,
                             empty = [], sizes = null, packed = null, notImages = null) {
    if (!url || !form || !target) return;
    const body = new FormData(form);
    // 0-byte files: the import refuses them, so the preview maps them to no product
    // one field each, not one per name: Django refuses a request of more than 1,000 fields,
    // and a season's ZIP lists thousands of files
    body.append("empty_json", JSON.stringify(empty));
    // name -> [width, height] from the headers (upload_dims.js): the server's size rule
    if (sizes) body.append("sizes_json", JSON.stringify(sizes));
    // files whose first bytes are no image format's (contentRefusals): the import refuses
    // them, so the preview plans none of those it maps (QA 2026-12-07 qa42c L3: one planned
    // as PT02, counted; verify43 L1: a ZIP's too)
    if (notImages && notImages.noHeader.length) {
      body.append("no_header_json", JSON.stringify(notImages.noHeader));
    }
    // of those, the ones whose first bytes read as text: "… text, not JPEG." in the preview
    // as in the import's report (images.not_image_reason), not "no … header found"
    if (notImages && notImages.textHeads.length) {
      body.append("text_heads_json", JSON.stringify(notImages.textHeads));
    }
    // a ZIP's name -> [uncompressed, compressed] from its directory: the import's zip-bomb rule
    if (packed) body.append("packed_json", JSON.stringify(packed));
    // a ZIP import ignores "send every file to one product"; a session's preview checks it
    if (!withProduct) body.delete("product");
    body.append("names_json", JSON.stringify(names));
    // which name is the manifest, found on the whole list (a ZIP's, read, is no longer among
    // the names; a session's is the chosen or taken one's path, never among them): the server
    // would find another on what is left (QA 2026-12-06 qa34c #1), and says a second one
    // beside it, its name differing only in case (qa34c #4)
    body.append("manifest_path", names.manifestName || "");
    if (zipManifestBlob) body.append("zip_manifest", zipManifestBlob, "manifest.csv");
    // a session's files (no ZIP argument at all) meet the manifest's position claims
    body.append("source", zipManifestBlob === undefined ? "session" : "zip");
    target.hidden = false;
    target.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(url, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(form) },
      });
      if (loggedOut(response)) {
        // not the login page inside the preview box (QA 2026-12-06 session37 M1)
        const said = el("p", "error");
        sayLoggedOut(said, "You are logged out; log in again to see where the files go.");
        target.replaceChildren(said);
      } else {
        target.innerHTML = response.ok ? await response.text() :
          `<p class="error">The preview failed (HTTP ${response.status}).</p>`;
      }
    } catch (err) {
      target.textContent = "The preview could not be loaded.";
    }
    target.removeAttribute("aria-busy");
  }

  class Uploader {
    constructor(root) {
      this.root = root;
      this.token = csrfToken(root);
      this.form = root.querySelector("form[data-options]");
      this.dropzone = root.querySelector("[data-dropzone]");
      this.status = root.querySelector("[data-status]");
      this.summary = root.querySelector("[data-summary]");
      this.overall = root.querySelector("[data-overall]");
      this.list = root.querySelector("[data-file-list]");
      this.failures = root.querySelector("[data-failures]");
      this.failureList = root.querySelector("[data-failure-list]");
      this.result = root.querySelector("[data-result]");
      this.startButton = root.querySelector("[data-start]");
      this.clearButton = root.querySelector("[data-clear]");
      this.autostart = root.dataset.autostart === "true";
      this.preview = root.querySelector("[data-preview]");
      this.previewUrl = root.dataset.previewUrl;
      this.skipNote = null; // "N files will be skipped", under the preview's reasons
      this.heldList = null; // files the preview held back, in the "Not stored" box
      this.storedSkip = null; // "N already stored — skipped" and "Upload again anyway"
      this.sendStoredAgain = false; // that box, ticked
      this.previewError = ""; // the preview's refusal of the options (a bad manifest)
      this.items = [];
      this.running = false;
      this.bind();
    }

    bind() {
      const zone = this.dropzone;
      const over = (event) => {
        event.preventDefault();
        if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
        zone.classList.add("over");
      };
      zone.addEventListener("dragenter", over);
      zone.addEventListener("dragover", over);
      zone.addEventListener("dragleave", () => zone.classList.remove("over"));
      zone.addEventListener("drop", async (event) => {
        event.preventDefault();
        zone.classList.remove("over");
        this.add(await filesFromDrop(event.dataTransfer));
      });
      zone.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          zone.querySelector("input[data-pick]").click();
        }
      });
      for (const input of this.root.querySelectorAll("input[data-pick]")) {
        input.addEventListener("change", () => {
          this.add(Array.from(input.files).map((file) => ({
            file: file, path: file.webkitRelativePath || "",
          })));
          input.value = "";
        });
      }
      this.startButton.addEventListener("click", () => this.start());
      if (this.form && this.previewUrl) {
        // New rules, new mapping: the preview follows the options as they are edited.
        const again = () => {
          clearTimeout(this.previewTimer);
          this.previewTimer = setTimeout(() => this.refreshPreview(), 300);
        };
        this.form.addEventListener("input", again);
        this.form.addEventListener("change", again);
      }
      this.clearButton.addEventListener("click", () => this.clear());
      // a manifest the user chooses is theirs: neither taken from a drop (Clear keeps it)
      // nor at a dropped file's path
      const manifestInput = this.form && this.form.querySelector("input[data-manifest]");
      if (manifestInput) {
        manifestInput.addEventListener("change", () => {
          this.manifestDropped = false;
          this.manifestTaken = "";
        });
      }
    }

    add(found) {
      if (this.running) return;
      const manifestInput = this.form && this.form.querySelector("input[data-manifest]");
      // a picked or dropped folder's manifest: the rule a ZIP of that folder is read by
      const manifestPath = manifestPathOf(this.dropzone,
        found.map(({ file, path }) => path || file.name));
      // the file this drop gives the manifest input, if it is empty: the folder's manifest,
      // else the first CSV dropped loose with the photos (a chosen one stays the import's)
      const takes = manifestInput && !manifestInput.files.length ? found.map(
        ({ file, path }) => path || file.name).find((name) => !ignoredName(this.dropzone, name) &&
        (name === manifestPath || (!name.replace(/\\/g, "/").includes("/") &&
          /\.csv$/i.test(name)))) : undefined;
      for (const { file, path } of found) {
        if (ignoredName(this.dropzone, path || file.name)) {
          // not sent, nor named in the report (a ZIP import passes over them too), but
          // listed: a drop that lost files without a word looked like a lost upload (QA)
          const item = this.row({ file: file, path: path, loaded: 0, done: true });
          item.state = "ignored";
          item.li.className = "skipped";
          item.li.dataset.status = "ignored";
          item.bar.value = 100;
          item.outcome.textContent = this.dropzone.dataset.ignored;
          this.items.push(item);
          continue;
        }
        // A CSV dropped loose with the photos is the manifest, as if chosen, if none was; in
        // a folder, only its manifest is (manifestPathOf): another CSV there is skipped as a
        // ZIP of the folder skips it.
        const isManifest = (path || file.name) === manifestPath;
        if (takes !== undefined && (path || file.name) === takes) {
          const holder = new DataTransfer();
          holder.items.add(file);
          manifestInput.files = holder.files;
          this.manifestDropped = true;  // Clear takes it back with the files it came with
          this.manifestTaken = takes;  // where it was: the session and its preview are told
          continue;
        }
        // one was chosen: that one is the import's, and the folder's is passed over, as a
        // ZIP's is beside a chosen manifest (neither a photo nor a file to report)
        if (manifestInput && isManifest) continue;
        // A ZIP belongs to the ZIP import (read by the worker), not to the image uploads.
        if (/\.zip$/i.test(file.name) && this.handOverZip(file)) continue;
        const item = this.row({ file: file, path: path, loaded: 0, done: false });
        const second = secondManifestReason(this.dropzone, path || file.name,
          this.manifestPath());
        const skip = second || nameSkipReason(this.dropzone, path || file.name);
        if (skip) {
          // not sent: what the preview and a ZIP import skip, said in the same words
          item.state = "skipped";
          item.secondManifest = !!second;  // counted apart, not as a file type
          item.done = true;
          item.li.className = item.li.dataset.status = "skipped";
          item.outcome.textContent = skip;
          this.listFailure(item, { reason: skip });
        }
        this.items.push(item);
      }
      this.status.hidden = false;
      this.update();
      if (this.autostart && this.items.length) this.start();
      else this.refreshPreview();
    }

    /* The path of the upload's manifest among the files' paths, as the session is told
     * (imports.session_manifest_path): the one the page took from a drop, else the chosen
     * file's name; "" for none. */
    manifestPath() {
      const input = this.form && this.form.querySelector("input[data-manifest]");
      if (!input || !input.files.length) return "";
      return (this.manifestDropped && this.manifestTaken) || input.files[0].name;
    }

    refreshPreview() {
      // a preview asked now makes a pending edit's one redundant: files dropped within 300 ms
      // of typing a rule were previewed, and checked against the stored images, twice
      clearTimeout(this.previewTimer);
      if (!this.previewUrl || !this.preview || this.running) return;
      const pending = this.items.filter((i) => !i.state);
      const names = this.items.filter((i) => !i.state || i.state === "skipped")
        .map((i) => i.path || i.file.name);
      // the session's manifest, never among the names: a second one beside it is said
      names.manifestName = this.manifestPath();
      if (!pending.length) {
        this.preview.hidden = true;
        this.previewError = "";
        this.markUnmapped(new Map());
        return;
      }
      // With a typed SKU the server answers whether it finds that product (ignoring case,
      // as the upload does): an unknown SKU is an error that disables Upload, said before
      // anything is sent; a known one holds back no file (every file goes to it).
      const empty = pending.filter((i) => i.file.size === 0).map((i) => i.path || i.file.name);
      const generation = (this.storedGeneration = (this.storedGeneration || 0) + 1);
      const dims = window.CutroomUploadDims;  // static/js/upload_dims.js: header sizes
      let unread = [];
      // files whose first bytes are no image format's, and why (markEmpty)
      let noImage = new Map();
      (dims ? dims.sizes(pending.map((i) => ({ name: i.path || i.file.name, file: i.file })))
        : Promise.resolve(null))
        .then(async (sizes) => {
          // files with bytes whose header size was not read: the import decides on arrival.
          // Not a file whose first bytes are no image's: that one is unreadable, counted so
          // (findUnreadable), not an image of a size unknown here
          const unsized = pending.filter((i) => i.file.size > 0 &&
            !(sizes && sizes[i.path || i.file.name]));
          unread = [];
          noImage = new Map();
          // told to the preview, which words them as the import does
          const notImages = contentRefusals(this.dropzone);
          for (const item of unsized) {
            const name = item.path || item.file.name;
            if (await looksLikeImage(item.file).catch(() => false)) {
              if (sizes) unread.push(name);
            } else {
              noImage.set(item.file, await notImages.add(name, item.file));
            }
          }
          return showPreview(this.previewUrl, this.form, names, this.preview, undefined,
            true, empty, sizes, null, notImages);
        })
        .then(() => {
          if (!this.oneProduct()) showSizesUnread(this.preview, unread);
          // the server's own refusal of the options (not a failed preview request)
          const error = this.preview.querySelector("[data-import-preview-result] > .error");
          this.previewError = error ? error.textContent.trim() : "";
          this.markUnmapped(this.previewUnmapped());
          this.markEmpty(noImage);
          // before the stored check, which leaves out what the preview refused for its size
          // (the import's order: the file's header before the catalog, assets.asset_ingest)
          if (dims) dims.mark(this.preview, this.items);
          this.findUnreadable();
          // then the copies within the upload, from the hashes the stored check made
          this.findStored(generation).then(() => this.findCopies(generation));
        });
    }

    /* A 0-byte file is refused by the import whatever its name: its row says so before it
     * is sent (the preview mapped it to no product). It is still sent (nothing to upload),
     * so the import's report lists it in its own words. So is a file the preview maps whose
     * first bytes are no image format's (``noImage``: text renamed .jpg; QA 2026-12-06 L6:
     * it read "planned" until the import refused it): "Will be refused" in the import's
     * words, counted among the refused ahead (refusesEvery), sent all the same so the
     * report names it, as an empty file and one refused for its size are. (A file held as
     * not mapped with such bytes is sent by findUnreadable, with its SKU's reason.) */
    markEmpty(noImage = new Map()) {
      const reason = this.dropzone.dataset.empty || "Not an image, or a corrupt one: the " +
        "file is empty.";
      const noHeader = this.dropzone.dataset.noHeader || "Not an image, or a corrupt one: " +
        "no JPEG, PNG, WebP, TIFF, HEIC/HEIF or AVIF header found.";
      for (const item of this.items) {
        const mapped = !item.state && item.unmapped === undefined;
        item.empty = mapped && item.file.size === 0;
        item.noImage = mapped && !item.empty && noImage.has(item.file);
        if (item.empty) item.outcome.textContent = `Will be refused: ${reason}`;
        if (item.noImage) {
          item.outcome.textContent = `Will be refused: ${noImage.get(item.file) || noHeader}`;
        }
      }
      this.update();
    }

    /* Which files to be sent look already stored: the server names the sizes some stored
     * image has, the files of those sizes only are hashed here (whole, one at a time, up to
     * HASH_MAX_BYTES), and the server names the stored images with those hashes. A row
     * says whether the import will skip it (the same bytes on the product it maps to: a
     * duplicate) or store it again with a warning (another product's). A duplicate is not
     * sent (skipsStored) unless "Upload again anyway" is ticked: the session's finish names
     * it with its hash, and the server checks it again for the report. */
    async findStored(generation) {
      const current = () => generation === this.storedGeneration && !this.running;
      for (const item of this.items) {
        if (!item.stored) continue;
        item.stored = null;
        item.storedSha = "";
        delete item.li.dataset.stored;
        if (item.li.dataset.status === "already") {  // its skipped look (showStoredRow)
          delete item.li.dataset.status;
          item.li.className = item.unmapped === undefined ? "queued" : "unmapped";
          item.bar.value = 0;
        }
        if (!item.state && item.unmapped === undefined && !item.empty && !item.noImage &&
          !sizedOut(item)) {
          item.outcome.textContent = "waiting";
        }
      }
      this.storedProgress = { left: 0, unchecked: 0 };
      this.update();
      const targets = previewTargets(this.preview);
      const one = ((this.form && this.form.querySelector("input[name=product]")) || {}).value;
      // not a file the preview refused for its size: the import refuses it for that before
      // it looks for a duplicate, so "already stored" would promise another outcome. A file
      // held for a taken position is asked about: the import looks for a duplicate on the
      // product before it looks at the position (a shoot dropped again is already stored,
      // not a clash), so one found there is skipped as already stored, as any other.
      const candidates = this.items.filter((i) => !i.state &&
        (i.unmapped === undefined || i.taken) && i.file.size > 0 && !sizedOut(i) &&
        !i.noImage)
        .map((item) => ({ bytes: item.file.size, item: item, read: async () => item.file }));
      // skipped only in an import session, whose finish names them for the report (files
      // sent to one typed product have no report: they are sent, as before)
      const skips = !!this.root.dataset.sessionUrl && !(one || "").trim();
      await checkStored(this.root.dataset.knownUrl, this.token, candidates, current,
        ({ item }, holders, hex) => {
          if (item.state || (item.unmapped !== undefined && !item.taken) || sizedOut(item)) {
            return;
          }
          const name = item.path || item.file.name;
          const note = storedNote(holders, targets[name] || (one || "").trim());
          if (item.taken) {
            // stored elsewhere only: the position still refuses it
            if (!note.duplicate || !skips) return;
            item.unmapped = undefined;
            item.taken = false;
            item.li.className = "queued";
          }
          if (note.duplicate) settleStored(this.preview, name);
          item.stored = note;
          item.storedSha = note.duplicate && skips ? hex : "";
          item.li.dataset.stored = note.duplicate ? "duplicate" : "elsewhere";
          this.update();
        },
        (left, unchecked) => {
          this.storedProgress = { left: left, unchecked: unchecked };
          this.update();
        });
    }

    /* Files of the same bytes as an earlier one (name order) for the same product: the
     * preview plans no position for them (upload_known.findCopies). They are still sent:
     * the import skips each as a duplicate and its report names it. */
    async findCopies(generation) {
      const current = () => generation === this.storedGeneration && !this.running;
      if (!current() || this.oneProduct()) return;
      const candidates = this.items.filter((i) => !i.state && i.unmapped === undefined &&
        i.file.size > 0 && !sizedOut(i))
        .map((item) => ({ name: item.path || item.file.name, bytes: item.file.size,
          read: async () => item.file }));
      const copies = await findCopies(this.preview, candidates, current);
      if (!current()) return;
      // a copy is skipped by the import whatever another product holds: not "stored on …
      // too" in its row nor among the files that look already stored (QA 2026-12-05 L2).
      // One stored on its own product is skipped as that duplicate, and stays so.
      for (const item of this.items) {
        if (!item.stored || item.stored.duplicate ||
          !copies.has(item.path || item.file.name)) continue;
        item.stored = null;
        delete item.li.dataset.stored;
        if (!item.state) item.outcome.textContent = "waiting";
      }
      this.update();
    }

    /* "N files look already stored …" under the preview's counts, from the rows as they
     * stand now: the files found, and what happens to the duplicates with the choices made
     * since ("Upload again anyway", a typed product, new options). Left as it was once the
     * upload has begun (the preview is then the plan it was). */
    showStoredCount() {
      if (!this.preview || this.running || this.items.some((i) => i.state &&
        i.state !== "skipped" && i.state !== "ignored")) return;
      const found = this.items.filter((i) => i.stored && !i.state &&
        i.unmapped === undefined && !sizedOut(i));
      const duplicates = found.filter((i) => i.stored.duplicate).length;
      const progress = this.storedProgress || { left: 0, unchecked: 0 };
      const skipping = found.some((i) => this.skipsStored(i));
      const choice = !this.root.dataset.sessionUrl || this.oneProduct() ? "import" :
        (skipping ? "skip" : (this.sendStoredAgain && duplicates ? "again" : "import"));
      showStoredNote(this.preview, found.length, duplicates, progress.unchecked,
        progress.left, choice);
    }

    /* A stored file's row as the choices stand: one the page skips is done ("Already stored
     * — skipped", its bar full, as a file the server answered), not a bar waiting to fill;
     * one it sends waits as any other, with what the import will do with it. */
    showStoredRow(item) {
      if (!item.stored || item.state || item.unmapped !== undefined) return;
      const skipped = this.skipsStored(item);
      const text = skipped ? storedSkipText(item.stored.holder, false) : item.stored.text;
      if (item.outcome.textContent !== text) item.outcome.textContent = text;
      if (skipped) {
        item.li.className = "duplicate";
        item.li.dataset.status = "already";
        item.bar.value = 100;
      } else if (item.li.dataset.status === "already") {
        delete item.li.dataset.status;
        item.li.className = "queued";
        item.bar.value = 0;
      }
    }

    /* Whether a file is left unsent because the preview found its bytes on the product it
     * maps to (the import would skip it as a duplicate): not once "Upload again anyway" is
     * ticked, nor once a product is typed (no report would name it). */
    skipsStored(item) {
      return !item.state && item.unmapped === undefined && !!item.storedSha &&
        !this.sendStoredAgain && !this.oneProduct();
    }

    oneProduct() {
      const input = this.form && this.form.querySelector("input[name=product]");
      return input ? input.value.trim() : "";
    }

    /* "12 already stored — skipped" by the Upload button, with "Upload again anyway": while
     * the preview found files of the upload stored on the product each maps to. */
    showStoredSkip() {
      const found = this.items.filter((i) => !i.state && i.unmapped === undefined &&
        i.storedSha && !this.oneProduct()).length;
      if (!this.storedSkip && !found) return;  // made once a file is found (the bulk page)
      if (!this.storedSkip) {
        this.storedSkip = el("p", "warn-text");
        this.storedSkip.dataset.storedSkip = "";
        this.storedSkipText = el("span");
        const box = el("input");
        box.type = "checkbox";
        box.dataset.sendStored = "";
        box.addEventListener("change", () => {
          this.sendStoredAgain = box.checked;
          this.update();  // the rows, the note and the counts follow the choice
        });
        const label = el("label", "check");
        label.append(box, document.createTextNode(" Upload again anyway"));
        this.storedSkip.append(this.storedSkipText, label);
        this.startButton.parentElement.after(this.storedSkip);
      }
      this.storedSkip.hidden = this.running || !found;
      this.storedSkip.querySelector("input").checked = this.sendStoredAgain;
      this.storedSkipText.textContent = this.sendStoredAgain ?
        `${found} already stored — sent again: the import skips each as a duplicate.` :
        `${found} already stored — skipped: the same bytes are on the product each maps ` +
        "to, so they are not sent; the import's report names them.";
    }

    /* A file held back as not mapped (an unknown SKU) whose first bytes are no image's is
     * not held: held, the report said only "Unknown SKU" of a file that is no readable image
     * at all (QA), and its SKU is the lesser problem. It is sent, so the import says it is
     * unreadable in its one wording (as for a ZIP's file), and its row adds the SKU's reason
     * after. A file held for a taken position stays held (the position refuses it first). */
    async findUnreadable() {
      const generation = (this.readGeneration = (this.readGeneration || 0) + 1);
      for (const item of this.items) {
        if (item.state || item.unmapped === undefined || item.taken) continue;
        let image;
        try { image = await looksLikeImage(item.file); } catch (e) { image = false; }
        if (generation !== this.readGeneration || this.running) return;  // a newer preview
        if (image || item.state || item.unmapped === undefined || item.taken) continue;
        item.unreadable = item.unmapped;
        item.unmapped = undefined;
        item.li.className = "queued";
        item.outcome.textContent = unreadableNote(item.unreadable);
        this.update();
      }
    }

    /* name → {reason, taken} for the files the preview shown now would not send: not
     * mapped, or refused for a taken position (taken). Hidden ones ("Show all") too. */
    previewUnmapped() {
      const found = new Map();
      if (this.preview.hidden) return found;
      for (const li of this.preview.querySelectorAll("[data-preview-unmapped]")) {
        const name = li.querySelector(".name");
        const reason = li.querySelector("[data-preview-reason]");
        if (!name || !reason) continue;
        found.set(name.textContent, {
          reason: reason.textContent.trim(), taken: !!li.closest("[data-preview-refused]"),
        });
      }
      return found;
    }

    /* Files the preview refused are not sent; files it maps again (new options) are. */
    markUnmapped(unmapped) {
      if (this.running) return;
      for (const item of this.items) {
        if (item.state) continue;
        const held = unmapped.get(item.path || item.file.name);
        if (held === undefined && item.unreadable) {
          // mapped now (new options): an ordinary file to send, the import says the rest
          item.unreadable = "";
          item.li.className = "queued";
          item.outcome.textContent = "waiting";
          continue;
        }
        if (held === undefined && item.unmapped === undefined) continue;
        item.unreadable = "";  // findUnreadable looks again
        item.unmapped = held && held.reason;
        item.taken = !!(held && held.taken);
        item.li.className = held === undefined ? "queued" : "unmapped";
        // a file an earlier batch held back and reported stays said in the past tense (the
        // preview is asked again once that batch is done)
        item.outcome.textContent = held === undefined ? "waiting" :
          `${item.reported ? "Skipped" : "Will be skipped"}: ${held.reason}`;
      }
      this.update();
    }

    handOverZip(file) {
      const form = document.querySelector("form[data-zip-form]");
      const input = form && form.querySelector("input[name=archive]");
      if (!input) return false;
      const holder = new DataTransfer();
      holder.items.add(file);
      input.files = holder.files;
      form.querySelector("[data-zip-status]").textContent =
        `${file.name} is ready: press "Import ZIP" to upload it.`;
      form.dispatchEvent(new CustomEvent("cutroom:zip-ready"));
      form.scrollIntoView({ behavior: "smooth", block: "center" });
      return true;
    }

    row(item) {
      const li = el("li", "queued");
      li.dataset.filename = item.path || item.file.name;
      item.name = el("span", "name", item.path || item.file.name);
      item.name.title = item.path || item.file.name;
      item.bar = el("progress");
      item.bar.max = 100;
      item.bar.value = 0;
      item.outcome = el("span", "outcome", "waiting");
      li.append(item.name, el("span", "size muted", formatBytes(item.file.size)), item.bar,
        item.outcome);
      this.list.append(li);
      item.li = li;
      return item;
    }

    clear() {
      if (this.running) return;
      this.items = [];
      this.list.replaceChildren();
      this.failureList.replaceChildren();
      if (this.heldList) this.heldList.replaceChildren();
      this.sendStoredAgain = false;  // a new drop: what is stored is skipped again
      this.failures.hidden = true;
      this.failures.classList.remove("refused");
      this.result.replaceChildren();
      this.overall.value = 0;
      if (this.preview) this.preview.hidden = true;
      // a manifest the page took from a dropped or picked folder goes with its files (QA
      // 2026-12-06 qa34c #3: the next folder's manifest was passed over for the cleared one);
      // one the user chose stays chosen
      const manifestInput = this.form && this.form.querySelector("input[data-manifest]");
      if (this.manifestDropped && manifestInput) manifestInput.value = "";
      this.manifestDropped = false;
      this.manifestTaken = "";
      this.update();
    }

    counts() {
      const c = {
        total: this.items.length, stored: 0, duplicate: 0, rejected: 0, skipped: 0, pending: 0,
        unmapped: 0, taken: 0, waiting: 0, checking: 0, empty: 0, stored_before: 0, ignored: 0,
        already: 0,  // already stored on its product: skipped (state "already" once started)
        refused_ahead: 0,  // among pending: "Will be refused" by the preview (empty, size,
        // no image header)
        no_image: 0,  // among pending: first bytes no image format's (sent: the import says)
        sized: 0,  // among pending: refused for their header size by the preview (sent)
        unreadable: 0,  // among pending: not mapped, but no image's first bytes (sent)
        held: 0,  // not sent, not yet named to a session: skipped by name, not mapped, taken
        held_skipped: 0, held_unmapped: 0, held_taken: 0,  // the same, by kind
        // among skipped and held_skipped: a second manifest, not a file type (said apart, as
        // the preview's server count says it: ImportPreview.unmapped_counts)
        second_manifest: 0, held_second_manifest: 0,
      };
      for (const item of this.items) {
        if (item.state) c[item.state] += 1;
        else if (item.unmapped !== undefined) c[item.taken ? "taken" : "unmapped"] += 1;
        else if (this.skipsStored(item)) c.already += 1;
        else c.pending += 1;
        if (item.state === "skipped" && item.secondManifest) c.second_manifest += 1;
        if (!item.state && item.waiting) c.waiting += 1;  // among pending: sent again soon
        // among pending: every byte sent, the server's answer not yet come (sentAll)
        if (!item.state && item.checking) c.checking += 1;
        // among pending, until sent: what the preview found the import will refuse or skip
        if (!item.state && item.unmapped === undefined && item.empty) c.empty += 1;
        if (!item.state && item.unmapped === undefined && !this.skipsStored(item) &&
          (item.empty || item.noImage || sizedOut(item))) c.refused_ahead += 1;
        if (!item.state && item.unmapped === undefined && item.noImage) c.no_image += 1;
        if (!item.state && item.unmapped === undefined && item.stored &&
          !this.skipsStored(item)) c.stored_before += 1;
        if (!item.state && item.unmapped === undefined && !this.skipsStored(item)) {
          if (sizedOut(item)) c.sized += 1;
          if (item.unreadable) c.unreadable += 1;
        }
        if (!item.reported && (item.state === "skipped" ||
          (!item.state && item.unmapped !== undefined))) {
          c.held += 1;
          c[item.state ? "held_skipped" : (item.taken ? "held_taken" : "held_unmapped")] += 1;
          if (item.state && item.secondManifest) c.held_second_manifest += 1;
        }
      }
      return c;
    }

    update() {
      const c = this.counts();
      const sendable = this.items.filter((i) => !["skipped", "already", "ignored"].includes(
        i.state) && (i.state || (i.unmapped === undefined && !this.skipsStored(i))));
      const bytes = sendable.reduce((sum, i) => sum + i.file.size, 0) || 1;
      const sent = sendable.reduce((sum, i) => sum + (i.done ? i.file.size : i.loaded), 0);
      this.overall.value = Math.round((100 * sent) / bytes);
      let text = plural(c.total, "file");
      const answered = c.total - c.pending - c.skipped - c.unmapped - c.taken - c.already -
        c.ignored;
      if (answered) {
        // the import's words (its progress and report, the result line): a file the server
        // did not store is "refused", whatever the reason (network errors, and the files
        // the preview held back: the session's finish reports them refused), and one found
        // stored on its product is a duplicate skipped, sent or not. One count of each
        // kind (QA 2026-12-05: "0 duplicates · 0 refused · … 1 refused (position taken) ·
        // 1 already stored — skipped" beside "1 duplicate skipped, 1 refused")
        const refused = c.rejected + c.unmapped + c.taken;
        const why = [];
        if (c.unmapped) why.push(`${c.unmapped} not mapped`);
        if (c.taken) why.push(`${c.taken} position taken`);
        text += ` · ${c.stored} stored · ${plural(c.duplicate + c.already, "duplicate")}` +
          (c.already ? ` (${c.already} already stored, not sent)` : "") +
          ` · ${refused} refused` + (why.length ? ` (${why.join(", ")})` : "");
        if (c.pending > c.checking) text += ` · ${c.pending - c.checking} to go`;
      }
      if (c.waiting) text += ` · ${c.waiting} waiting for the server`;
      if (c.checking) text += ` · ${c.checking} checking on the server…`;
      if (c.skipped > c.second_manifest) {
        text += ` · ${c.skipped - c.second_manifest} skipped (file type)`;
      }
      if (c.second_manifest) text += ` · ${c.second_manifest} skipped (second manifest)`;
      if (c.ignored) text += ` · ${c.ignored} ignored (hidden or system files)`;
      if (c.unmapped && !answered) text += ` · ${c.unmapped} not mapped`;
      if (c.taken && !answered) text += ` · ${c.taken} refused (position taken)`;
      if (c.empty) text += ` · ${c.empty} empty (0 bytes: will be refused)`;
      // what the preview's counts say too, from these counts (QA38 M4: the preview's "1
      // refused for size" was not among them)
      if (c.sized && !answered) text += ` · ${c.sized} refused for size (sent: the import ` +
        "says why)";
      if (c.unreadable && !answered) text += ` · ${c.unreadable} unreadable (sent: the ` +
        "import checks it)";
      if (c.no_image && !answered) text += ` · ${c.no_image} not an image (will be ` +
        "refused; sent: the import says why)";
      if (c.stored_before) text += ` · ${c.stored_before} ${c.stored_before === 1 ? "looks" :
        "look"} already stored`;
      if (c.already && !answered) text += ` · ${c.already} already stored — skipped`;
      this.summary.textContent = text;
      // nothing to send, every file held back (not mapped, position taken, skipped by name,
      // already stored): the button stays, held, saying why, as for "every file refused"
      // (QA38 L8: it hid without a word, "Upload 0 files" to a script)
      const storedSkips = this.items.filter((i) => this.skipsStored(i)).length;
      const allHeld = !this.running && !this.previewError && !c.pending &&
        c.held + storedSkips > 0;
      this.startButton.hidden = this.running || this.autostart || (!c.pending && !allHeld);
      this.startButton.textContent = `Upload ${plural(c.pending, "file")}`;
      // every file to send is one the preview says the import refuses (refusesEvery)
      const allRefused = this.previewError ? null :
        refusesEvery(c.pending, c.refused_ahead, "upload");
      const held = !!this.previewError || !!allRefused || allHeld;
      this.startButton.disabled = held;
      // the stylesheet has no disabled look for buttons: dim it here, and say why beside it
      this.startButton.style.opacity = held ? "0.5" : "";
      this.startButton.style.cursor = held ? "not-allowed" : "";
      this.startButton.title = this.previewError ?
        "Fix the error the preview shows first: the upload would be refused." :
        (allRefused ? allRefused.title :
          (allHeld ? "Nothing to upload: every file is held back (each row says why)." : ""));
      if (this.previewError && c.pending && !this.running) {
        this.summary.textContent += " · fix the error shown below to upload";
      } else if (allRefused && !this.running) {
        this.summary.textContent += ` · ${allRefused.note} (each row says why)`;
      } else if (allHeld) {
        const count = c.held + storedSkips;
        this.summary.textContent += ` · nothing to upload: ${count === 1 ? "the file is" :
          `all ${count} files are`} held back (each row says why)`;
      }
      this.clearButton.hidden = this.running || !c.total;
      this.showSkipNote(this.running ? null : c);
      if (!this.running) this.showPreviewCounts(c);
      if (!this.running) for (const item of this.items) this.showStoredRow(item);
      this.showStoredSkip();
      this.showStoredCount();
      this.root.dataset.state = this.running ? "running" : (c.pending ? "ready" : "idle");
    }

    /* "3 files will be skipped (see why above): 1 not an image file, 2 not mapped." under
     * the preview: the files of this upload not sent, by kind, from counts() as the summary
     * is (QA38 M4: it said 2 where the summary's were 3); gone while the upload runs and once
     * it is done (those files are then named to the session: its report lists them). */
    showSkipNote(c) {
      if (!this.preview) return;
      if (!this.skipNote) {
        this.skipNote = el("p", "warn-text");
        this.skipNote.dataset.previewSkipNote = "";
        this.preview.after(this.skipNote);
      }
      const count = c ? c.held : 0;
      this.skipNote.hidden = !count;
      if (!count) return;
      const kinds = [];
      if (c.held_skipped > c.held_second_manifest) {
        kinds.push(`${c.held_skipped - c.held_second_manifest} file type`);
      }
      if (c.held_second_manifest) kinds.push(`${c.held_second_manifest} second manifest`);
      if (c.held_unmapped) kinds.push(`${c.held_unmapped} not mapped`);
      if (c.held_taken) kinds.push(`${c.held_taken} position taken`);
      this.skipNote.textContent =
        `${plural(count, "file")} will be skipped (see why above): ${kinds.join(", ")}.`;
    }

    /* The preview's count of what it does not map (the server's, from the names, split by
     * kind as a ZIP's preview says it: ImportPreview.unmapped_counts) counted as the page
     * holds those files: not mapped (held), skipped by name (a file type, a second
     * manifest), unreadable (sent after all, findUnreadable, which the server cannot know),
     * so it agrees with the summary and the skip note (QA38 M4: "4 not mapped" beside "1
     * skipped · 2 not mapped"). The list's heading says the same words (it said "Not
     * mapped (4)", counting the skipped ones too). */
    showPreviewCounts(c) {
      const span = this.preview && !this.preview.hidden &&
        this.preview.querySelector("[data-preview-unmapped-count]");
      if (!span) return;
      const heading = this.preview.querySelector("[data-preview-unmapped-heading]");
      const parts = [];
      if (c.unmapped) parts.push(`${c.unmapped} not mapped`);
      if (c.skipped > c.second_manifest) {
        parts.push(`${c.skipped - c.second_manifest} skipped (file type)`);
      }
      if (c.second_manifest) parts.push(`${c.second_manifest} skipped (second manifest)`);
      if (c.unreadable) parts.push(`${c.unreadable} unreadable (sent: the import checks it)`);
      const text = parts.join(" · ");
      if (text && span.textContent !== text) span.textContent = text;
      if (text && heading && heading.textContent !== text) heading.textContent = text;
    }

    fail(message) {
      this.result.replaceChildren(el("p", "error", message));
      // the preview already said why (a bad manifest, a bad pattern): say it once, here
      if (this.preview && this.preview.querySelector(".error")) this.preview.hidden = true;
    }

    /* The files the page will not send, named in a session's start request (the import row
     * is made then): skipped by name, held by the preview, found already stored on their
     * product. The server reports them when the session ends, however it ends: named only
     * in the finish, they were lost with a tab closed before it (QA38 H1: the last file's
     * arrival ended the session, and no report row named the held file). Past
     * MAX_FINISH_NAMES of a kind the rest are counted (`<kind>_more`), not named: the
     * report and the message say "… and 1,234 more". */
    nameNotSent(body, { skipped, held, already }) {
      const name = (i) => i.path || i.file.name;
      const more = (kind, items) => {
        if (items.length > MAX_FINISH_NAMES) {
          body.append(`${kind}_more`, String(items.length - MAX_FINISH_NAMES));
        }
      };
      for (const item of skipped.slice(0, MAX_FINISH_NAMES)) body.append("skipped", name(item));
      more("skipped", skipped);
      // held back because the preview refused them: the server says why in the report
      for (const item of held.slice(0, MAX_FINISH_NAMES)) body.append("held", name(item));
      more("held", held);
      // "<sha256>:<name>" in one JSON field (with the kinds above, one field each could pass
      // Django's 1,000-field cap); the server checks each again and its report names every one
      if (already.length) {
        body.append("stored_json", JSON.stringify(already.slice(0, MAX_FINISH_NAMES)
          .map((i) => `${i.storedSha}:${name(i)}`)));
      }
      more("stored", already);
    }

    async session(notSent) {
      if (!this.root.dataset.sessionUrl) {
        return { upload_url: this.root.dataset.uploadUrl };
      }
      const body = new FormData(this.form);
      body.append("expected", String(this.counts().pending));
      this.nameNotSent(body, notSent);
      // every file of the drop, as the preview had them: the server matches the manifest's
      // rows to all at once (a row whose base name two folders hold goes to neither)
      body.append("names_json", JSON.stringify(this.items.filter((i) => !i.state ||
        i.state === "skipped").map((i) => i.path || i.file.name)));
      // a second manifest beside it, its name differing only in case, is reported
      body.append("manifest_path", this.manifestPath());
      const answer = await post(this.root.dataset.sessionUrl, body, this.token);
      if (answer.loggedOut) {
        // not "could not start (HTTP 200)": the login page answered (QA 2026-12-06 session37 M3)
        this.fail("");
        sayLoggedOut(this.result.firstChild,
          "You are logged out; log in again (nothing was sent).");
        return null;
      }
      if (answer.status >= 200 && answer.status < 300 && answer.data) return answer.data;
      this.fail((answer.data && answer.data.error) ||
        `The upload could not start (HTTP ${answer.status || "network error"}).`);
      return null;
    }

    async start() {
      if (this.running || this.previewError) return;
      // In name order, so files usually arrive in the order they take positions in; the
      // server's finish makes that order hold whatever order they arrive in.
      const pending = this.items.filter((i) => !i.state && i.unmapped === undefined &&
        !this.skipsStored(i)).sort(byPath);
      // not sent, named by the session's start (nameNotSent): found stored on their own
      // product by the preview, skipped by name, held by the preview
      const already = this.items.filter((i) => this.skipsStored(i));
      const notSent = {
        already: already,
        skipped: this.items.filter((i) => i.state === "skipped" && !i.reported),
        held: this.items.filter((i) => !i.state && i.unmapped !== undefined && !i.reported),
      };
      if (!pending.length) return;
      this.running = true;
      this.result.replaceChildren();
      this.update();
      const session = await this.session(notSent);
      if (!session) {
        this.running = false;
        this.update();
        return;
      }
      if (session.finish_url) {
        for (const item of [...notSent.skipped, ...notSent.held, ...already]) {
          item.reported = true;
        }
      }
      for (const item of already) {
        item.state = "already";
        item.done = true;
        item.li.className = "duplicate";
        item.li.dataset.status = "already";
        item.bar.value = 100;  // done, not waiting: nothing of it is to be sent
        item.outcome.textContent = storedSkipText(item.stored.holder, true);
      }
      const position = this.form && this.form.querySelector("select[name=position]");
      // A session carries "replace" itself (its start sent the form); the per-file uploader
      // sends it with the first file only: one file per request, so only the page can stop a
      // second file from replacing the first.
      let replace = !session.finish_url && !!(this.form &&
        this.form.querySelector("input[name=replace]:checked"));
      let next = 0;
      const worker = async () => {
        while (next < pending.length) {
          const item = pending[next++];
          const status = await this.send(item, session.upload_url,
            position ? position.value : "", replace);
          if (status === "stored" || status === "duplicate") replace = false;
        }
      };
      // Without a session's finish to put unpositioned files in name order (a product page's
      // own uploader), the next free position goes by arrival: send them one at a time.
      const lanes = session.finish_url ? CONCURRENCY : 1;
      await Promise.all(Array.from({ length: Math.min(lanes, pending.length) }, worker));
      await this.finish(session, pending, notSent);
      this.running = false;
      this.update();
    }

    async send(item, url, position, replace = false) {
      item.li.className = "sending";
      item.outcome.textContent = "uploading…";
      let answer = null;
      let busy = 0;
      for (let attempt = 0; attempt <= RETRIES; attempt++) {
        const body = new FormData();
        body.append("file", item.file, item.file.name);
        if (item.path) body.append("path", item.path);
        if (position) body.append("position", position);
        if (replace) body.append("replace", "on");
        answer = await post(url, body, this.token, (fraction) => {
          item.loaded = fraction * item.file.size;
          item.bar.value = Math.round(fraction * 100);
          this.sentAll(item, fraction >= 1);
          this.update();
        });
        this.sentAll(item, false);  // answered (or never will be)
        if (answer.status === 429) {
          // the server stored nothing: not a failed attempt, unless it stays busy
          if (busy++ >= BUSY_RETRIES) break;
          attempt--;
          await this.waitForServer(item, answer.retryAfter);
          continue;
        }
        if (answer.data || (answer.status && answer.status < 500)) break;
        item.outcome.textContent = "retrying…";
      }
      // no answer after the retries, or busy every time: the server never stored the file
      item.notSent = !answer.data || answer.status === 429;
      let data = answer.status === 429 ? {
        status: "rejected",
        reason: `Not sent: the server stayed busy with other uploads (${busy} tries); ` +
          "upload it again.",
      } : answer.loggedOut ? {
        status: "rejected",
        reason: "Not stored: you are logged out; log in again and upload it again.",
      } : answer.data || {
        status: "rejected",
        reason: answer.status ? `Server error (HTTP ${answer.status}).` : "Network error.",
      };
      item.done = true;
      item.state = ["stored", "duplicate"].includes(data.status) ? data.status : "rejected";
      item.bar.value = 100;
      item.li.className = item.state;
      item.li.dataset.status = item.state;
      if (item.state === "stored") {
        this.countStored(data);
        item.outcome.textContent = `stored → ${data.product} ${data.position}`;
        if (data.warnings && data.warnings.length) {
          item.outcome.append(el("span", "warn-text", ` · ⚠ ${data.warnings.join(" · ")}`));
        }
      } else {
        item.outcome.textContent = data.reason || "Refused.";
      }
      if (item.unreadable && item.state === "rejected") {
        // the import's reason (unreadable) first, then why its name maps to nothing
        data = { ...data, reason: `${data.reason || "Refused."} Its name also maps to no ` +
          `product: ${item.unreadable}` };
        item.outcome.textContent = data.reason;
      }
      if (item.state !== "stored") this.listFailure(item, data);
      this.update();
      return item.state;
    }

    /* Once a file's bytes are all sent its row waits for the server's answer, which for a
     * large photo (decoded, checked, stored) takes seconds: "checking on the server…", not
     * "uploading…" under a full bar (QA 2026-12-07 qa42c M1: 13 s of "uploading…" at 100 %
     * for a 44.8 MP photo). The summary counts those apart from the files still to send. */
    sentAll(item, sent) {
      if (!!item.checking === sent) return;
      item.checking = sent;
      if (sent) {
        item.li.dataset.checking = "";
        item.outcome.textContent = "checking on the server…";
      } else {
        delete item.li.dataset.checking;
      }
    }

    /* The page's image count goes up with each stored file, less the images it replaced
     * (QA 2026-12-04: "Images (0)" stayed 0 until the whole upload was done and the grid
     * was read again). */
    countStored(data) {
      const selector = this.root.dataset.countTarget;
      const target = selector && document.querySelector(selector);
      if (!target) return;
      const count = (parseInt(target.dataset.count, 10) || 0) + 1 -
        ((data.replaced && data.replaced.length) || 0);
      target.dataset.count = String(count);
      target.textContent = String(count);
      // The grid's "No images yet." stays until the refresh at the end: beside "Images (5)"
      // it read as if the stored files were lost (QA 2026-12-06).
      const empty = target.closest("section")?.querySelector(":scope > .empty");
      if (empty && count > 0) {
        empty.textContent = `${count} stored so far: they show here when the upload is done.`;
      }
    }

    /* A busy answer (429): the row waits for the server, not an error, for Retry-After
     * seconds and a random quarter more; its bytes are sent again, so its progress restarts. */
    async waitForServer(item, retryAfter) {
      const seconds = Math.min(retryAfter === null ? 3 : retryAfter, BUSY_WAIT_MAX) *
        (1 + Math.random() / 4);
      item.waiting = true;
      item.loaded = 0;
      item.bar.value = 0;
      item.li.className = "waiting";
      item.li.dataset.waiting = "";
      item.outcome.textContent = `waiting for the server (busy) · again in ${Math.ceil(seconds)} s`;
      item.outcome.title = "The server is busy with other uploads and stored nothing of this " +
        "file: it is sent again by itself.";
      this.update();
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      item.waiting = false;
      item.outcome.title = "";
      delete item.li.dataset.waiting;
      item.li.className = "sending";
      item.outcome.textContent = "uploading…";
      this.update();
    }

    listFailure(item, data) {
      const li = el("li", item.state);
      li.dataset.filename = item.path || item.file.name;
      li.append(el("b", "", item.path || item.file.name), document.createTextNode(": "),
        el("span", "reason", data.reason || "Refused."));
      this.failureList.append(li);
      // red only for a refusal: a duplicate is counted apart from them (QA: "0 refused" under
      // a red box listing only a duplicate)
      if (item.state !== "duplicate") this.failures.classList.add("refused");
      this.failures.hidden = false;
    }

    /* A file the preview held back (not mapped, position taken, already stored on its
     * product), in the "Not stored" box beside the files the server refused: the summary
     * counts both. */
    listHeld(item) {
      if (!this.heldList) {
        this.heldList = el("ul", "held");
        this.heldList.dataset.heldList = "";
        this.failureList.after(this.heldList);
      }
      const duplicate = item.state === "already";
      const li = el("li", duplicate ? "duplicate" : "unmapped");
      li.dataset.filename = item.path || item.file.name;
      const reason = duplicate ? `Not sent: already stored as ${item.stored.holder}.` :
        `Not sent: ${item.unmapped || "the preview refused it."}`;
      li.append(el("b", "", item.path || item.file.name), document.createTextNode(": "),
        el("span", "reason", reason));
      // the batch is done: its row says what happened, as an already-stored row does
      // (QA 2026-12-05: "Will be skipped: Position MAIN …" stayed after the upload)
      if (!duplicate) item.outcome.textContent = `Skipped: ${item.unmapped || "the preview refused it."}`;
      this.heldList.append(li);
      if (!duplicate) this.failures.classList.add("refused");
      this.failures.hidden = false;
    }

    /* The page's "Recent imports", read again from the page itself: the session just made
     * is one of them. */
    async refreshRecent() {
      const url = this.root.dataset.recentUrl;
      const section = document.querySelector("[data-recent-imports]");
      if (!url || !section) return;
      try {
        const response = await fetch(url, { credentials: "same-origin" });
        if (!response.ok) return;
        const page = new DOMParser().parseFromString(await response.text(), "text/html");
        const fresh = page.querySelector("[data-recent-imports]");
        if (fresh) section.replaceWith(document.importNode(fresh, true));
      } catch (err) {
        // the list is a convenience: the import's own link above is what matters
      }
    }

    async finish(session, sent, notSent) {
      const parts = [];
      if (session.finish_url) {
        const body = new FormData();
        const name = (i) => i.path || i.file.name;
        // the files that failed to send: the rest not sent were named at the start
        // (nameNotSent); past MAX_FINISH_NAMES the rest are counted, not named
        const notSentNow = sent.filter((i) => i.notSent);
        for (const item of notSentNow.slice(0, MAX_FINISH_NAMES)) {
          body.append("failed", name(item));
        }
        if (notSentNow.length > MAX_FINISH_NAMES) {
          body.append("failed_more", String(notSentNow.length - MAX_FINISH_NAMES));
        }
        for (const item of [...notSent.held, ...notSent.already]) this.listHeld(item);
        const answer = await post(session.finish_url, body, this.token);
        for (const moved of (answer.data && answer.data.positions) || []) {
          // the session's end put unpositioned files in name order: say where they are now
          const item = sent.find((i) => name(i) === moved.filename && i.state === "stored");
          if (item) item.outcome.firstChild.textContent =
            `stored → ${moved.product} ${moved.position}`;
        }
        for (const said of (answer.data && answer.data.warnings) || []) {
          // a warning naming another image the name order moved: the report's words now
          const item = sent.find((i) => name(i) === said.filename && i.state === "stored");
          if (!item || !said.warnings.length) continue;
          const text = ` · ⚠ ${said.warnings.join(" · ")}`;
          const warn = item.outcome.querySelector(".warn-text");
          if (warn) warn.textContent = text;
          else item.outcome.append(el("span", "warn-text", text));
        }
        for (const dup of (answer.data && answer.data.duplicates) || []) {
          // the kept copy may have moved with the name order too: the report's words now
          const item = sent.find((i) => name(i) === dup.filename &&
            ["duplicate", "stored"].includes(i.state));
          if (!item) continue;
          if (item.state === "stored") {
            // stored on arrival, then a copy first in name order took its image over
            // (import_mapping._first_by_name): the import counts it a duplicate now
            item.state = "duplicate";
            item.li.className = item.li.dataset.status = "duplicate";
            this.listFailure(item, { status: "duplicate", reason: dup.reason });
          }
          item.outcome.textContent = dup.reason;
          for (const li of this.failureList.children) {
            const reason = li.querySelector(".reason");
            if (li.dataset.filename === dup.filename && reason) reason.textContent = dup.reason;
          }
        }
        this.update();
        if (answer.data && answer.data.job_url) {
          const link = el("a", "", `Import #${answer.data.id}: ${answer.data.message}`);
          link.href = answer.data.job_url;
          parts.push(link);
        }
      } else if (session.done_url) {
        const link = el("a", "", `Open ${session.product}`);
        link.href = session.done_url;
        parts.push(link);
      }
      this.result.replaceChildren(...parts.map((p) => { const d = el("p"); d.append(p); return d; }));
      // The preview's counts are its plan from the names ("8 of 8 files → 7 products"); a
      // file refused on arrival (corrupt, not an image) never made its product, so once the
      // import has answered they are labelled as the plan they were, beside its outcome.
      const summary = this.preview && !this.preview.hidden &&
        this.preview.querySelector(".preview-summary");
      if (summary && parts.length && !summary.querySelector("[data-preview-planned]")) {
        const label = el("span", "muted", "Planned before the upload: ");
        label.dataset.previewPlanned = "";
        summary.prepend(label);
      }
      if (session.finish_url) this.refreshRecent();
      const refresh = this.root.dataset.refreshUrl;
      if (refresh && window.htmx) {
        window.htmx.ajax("GET", refresh, {
          target: this.root.dataset.refreshTarget, swap: "outerHTML",
        });
      }
      this.root.dispatchEvent(new CustomEvent("cutroom:uploaded", {
        bubbles: true, detail: this.counts(),
      }));
    }
  }

  function zipForm(form) {
    const bar = form.querySelector("[data-zip-progress]");
    const status = form.querySelector("[data-zip-status]");
    const input = form.querySelector("input[name=archive]");
    const target = document.querySelector("[data-zip-preview]");
    const uploader = document.querySelector("[data-uploader][data-preview-url]");
    const button = form.querySelector("button[type=submit]");
    let generation = 0;
    const previewZip = async () => {
      const file = input && input.files[0];
      if (!file || !target || !uploader) return;
      const current = ++generation;
      const names = await zipEntryNames(file).catch(() => null);
      // only undo a refusal of ours: the submit handler disables the button while uploading
      if (button.dataset.zipDamaged || button.dataset.previewRefused) {
        delete button.dataset.zipDamaged;
        delete button.dataset.previewRefused;
        button.disabled = false;
        button.title = "";
        if (status.dataset.previewRefused) {
          delete status.dataset.previewRefused;
          status.textContent = "";
        }
      }
      if (names === ZIP_DAMAGED) {
        target.hidden = false;
        target.innerHTML = "";
        const line = document.createElement("p");
        line.className = "error";
        line.setAttribute("data-zip-damaged-message", "");
        line.textContent = `${file.name}: ${form.dataset.zipDamaged ||
          "The ZIP is damaged or incomplete; upload it again."}`;
        target.append(line);
        button.dataset.zipDamaged = "1";
        button.disabled = true;
        return;
      }
      if (names === null) {
        target.hidden = false;
        target.textContent = "This ZIP's file list cannot be read in the browser; the import " +
          "will report how each file was mapped.";
        return;
      }
      let manifest = null;
      if (names.manifest) {
        manifest = await zipManifest(file, names.manifest).catch(() => null);
        // unread, the server says so in the preview rather than mapping without it
        if (!manifest) names.push(names.manifestName);
      }
      // every file entry's sizes, the manifest's too: the import's zip-bomb rule counts them all
      const packed = {};
      for (const [name, entry] of names.entries) packed[name] = [entry.bytes, entry.size];
      if (names.manifest) {
        packed[names.manifestName] = [names.manifest.bytes, names.manifest.size];
      }
      const empty = names.filter((name) => (names.entries.get(name) || {}).bytes === 0);
      // the entries' pixel sizes from their headers, for the server's size rule (as for
      // picked files): the central directory, each local header, then the image header
      const read = await zipEntrySizes(file, names.entries, () => current === generation);
      if (!read) return;  // a newer ZIP or options
      await showPreview(uploader.dataset.previewUrl,
        document.querySelector("form[data-options]"), names, target, manifest, false, empty,
        read.sizes, packed, read.notImages);
      // the entries whose first bytes are no image's are the server's to list (its "not an
      // image" count and list, in the import's words), as for picked files
      showSizesUnread(target, read.unread);
      // A refusal the preview found (a manifest with errors, a bad pattern) would only make a
      // "Failed" import: hold the button as for a damaged ZIP (the server still refuses too).
      // So does a manifest product the import cannot make with its values (a GTIN's check
      // digit, data-preview-blocks): a fault of the manifest, as a differing title is (QA40 L4).
      const error = target.querySelector(
        "[data-import-preview-result] > .error, [data-preview-blocks]");
      if (error && input.files[0] === file) {
        const held = target.querySelector("[data-preview-errors]");
        const count = Number(held && held.dataset.previewErrors) || 1;
        const what = count > 1 ? `the ${count} errors` : "the error";
        button.dataset.previewRefused = "1";
        button.disabled = true;
        button.title = `Fix ${what} the preview shows first: the import would ${
          error.matches("[data-preview-blocks]") ? "refuse those files" : "fail"}.`;
        status.dataset.previewRefused = "1";
        status.textContent = `Fix ${what} shown below to import this ZIP.`;
      }
      // every entry the import takes is one the preview says it refuses (0 bytes, size): held
      // as Upload is for such files (refusesEvery, one policy), its reason beside it
      const result = target.querySelector("[data-import-preview-result][data-preview-mapped]");
      const counts = result && result.dataset;
      // not while its manifest creates products: the import does that whatever the files
      const refused = !error && counts && current === generation && input.files[0] === file &&
        !(Number(counts.previewManifestCreates) > 0) ?
        refusesEvery(Number(counts.previewMapped) - Number(counts.previewTaken) +
          Number(counts.previewRefusedAhead), Number(counts.previewRefusedAhead), "import") :
        null;
      if (refused) {
        button.dataset.previewRefused = "1";
        button.disabled = true;
        button.title = refused.title;
        status.dataset.previewRefused = "1";
        status.textContent = `${refused.note.charAt(0).toUpperCase()}${
          refused.note.slice(1)} (the preview below says why).`;
      }
      if (!error) {
        // not the entries the preview refused for their size: the import refuses them for
        // that before it looks for a duplicate (assets.asset_ingest's order)
        const sized = new Set(Array.from(target.querySelectorAll(
          "[data-preview-sized-file] .name"), (node) => node.textContent));
        const entries = new Map(Array.from(names.entries).filter(
          ([name, entry]) => !sized.has(name) && !entry.junk));
        const dropCopies = await findStoredInZip(entries, (entry) => zipEntryData(file, entry),
          target, uploader.dataset.knownUrl, csrfToken(form),
          () => current === generation && input.files[0] === file);
        const copies = await findCopies(target, Array.from(entries, ([name, entry]) => ({
          name: name, bytes: entry.bytes, crc: entry.crc,
          read: () => zipEntryData(file, entry) })),
        () => current === generation && input.files[0] === file);
        if (current === generation && input.files[0] === file) dropCopies(copies);
      }
    };
    if (input) {
      input.addEventListener("change", previewZip);
      const options = document.querySelector("form[data-options]");
      if (options) {
        let timer = null;
        const again = () => {
          clearTimeout(timer);
          timer = setTimeout(previewZip, 300);
        };
        options.addEventListener("input", again);
        options.addEventListener("change", again);
      }
      // A ZIP dropped on the uploader is handed over by setting files, which fires no event.
      form.addEventListener("cutroom:zip-ready", previewZip);
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      // the preview found it damaged, or its options refused: not sent
      if (button.dataset.zipDamaged || button.dataset.previewRefused) return;
      const body = new FormData(form);
      // The mapping options live in the uploader's form; a ZIP import uses them too.
      const options = document.querySelector("form[data-options]");
      if (options) {
        for (const [key, value] of new FormData(options)) {
          if (key !== "csrfmiddlewaretoken" && key !== "product") body.append(key, value);
        }
      }
      bar.hidden = false;
      status.textContent = "uploading…";
      form.querySelector("button").disabled = true;
      const answer = await post(form.action, body, csrfToken(form), (fraction) => {
        bar.value = Math.round(fraction * 100);
        // every byte sent: the server reads the ZIP's directory before it answers (sentAll)
        status.textContent = fraction >= 1 ? "uploaded; checking on the server…" :
          `uploading… ${bar.value}%`;
      });
      if (answer.data && answer.data.job_url) {
        status.textContent = "uploaded; the worker takes it from here…";
        window.location.assign(answer.data.job_url);
        return;
      }
      form.querySelector("button").disabled = false;
      if (answer.loggedOut) {
        sayLoggedOut(status, "You are logged out; log in again (the ZIP was not stored).");
      } else {
        status.textContent = (answer.data && answer.data.error) ||
          `The ZIP could not be uploaded (HTTP ${answer.status || "network error"}).`;
      }
      status.className = "error";
      if (target && target.querySelector(".error")) target.hidden = true;
    });
  }

  /* Whether some uploader on the page has begun a batch and still has files to send (one in
   * flight counts: its answer has not come). Not before Upload is pressed, not once every
   * file has had its answer (the finish may still be on its way: the server ends the session
   * when the last declared file arrives), not after the server refused to open the session. */
  function stillSending() {
    return Array.from(document.querySelectorAll("[data-uploader]")).some((root) => {
      const uploader = root.cutroomUploader;
      return !!uploader && uploader.running && uploader.counts().pending > 0;
    });
  }

  /* Leaving mid-batch (a link, a reload, closing the tab) asks first, as the retouch page
   * does for strokes not applied: the files not yet sent would never arrive, and the import
   * would wait for them (QA 2026-12-04: Products clicked 3 s into a 30-file batch left
   * "Running 4 / 30" and no word of the 26 never sent). */
  function guardLeaving() {
    if (window.cutroomUploadGuard) return;
    window.cutroomUploadGuard = true;
    window.addEventListener("beforeunload", (event) => {
      if (!stillSending()) return undefined;
      event.preventDefault();
      event.returnValue = "";  // older Chromium shows the prompt only with this set
      return "";
    });
  }

  function init() {
    for (const root of document.querySelectorAll("[data-uploader]")) {
      if (!root.cutroomUploader) root.cutroomUploader = new Uploader(root);
    }
    for (const form of document.querySelectorAll("form[data-zip-form]")) zipForm(form);
    guardLeaving();
  }

  /* The scripts upload.js needs on this page and not loaded (yet): upload_known.js on every
   * uploader's page; upload_dims.js where a preview is asked (the bulk page), whose sizes
   * the server's size rule judges. */
  function missingScripts() {
    const missing = [];
    if (!window.cutroomUploadKnown) missing.push("upload_known.js");
    if (!window.CutroomUploadDims && document.querySelector("[data-uploader][data-preview-url]," +
      "form[data-zip-form]")) missing.push("upload_dims.js");
    return missing;
  }

  /* The one start of the page's uploaders: once the document's deferred scripts have all
   * run (DOMContentLoaded), so the order of the script tags cannot matter, and only with
   * every script it needs; without one, each uploader says so and offers no upload. */
  let booted = false;
  function boot() {
    if (booted) return;
    const missing = missingScripts();
    if (missing.length && document.readyState !== "complete") {
      window.addEventListener("load", boot, { once: true });  // one more chance: async tags
      return;
    }
    booted = true;
    if (missing.length) {
      const text = `The upload cannot start: the page's ${missing.join(" and ")} did not ` +
        "load. Reload the page; if this stays, tell an administrator.";
      console.error(`upload.js: ${text}`);
      for (const root of document.querySelectorAll("[data-uploader], form[data-zip-form]")) {
        const line = document.createElement("p");
        line.className = "error";
        line.setAttribute("role", "alert");
        line.dataset.uploadScriptsMissing = "";
        line.textContent = text;
        root.prepend(line);
        for (const button of root.querySelectorAll("button, input")) button.disabled = true;
      }
      return;
    }
    ({
      checkStored, previewTargets, storedNote, showStoredNote, findStoredInZip, settleStored,
      findCopies, byName, plural, el, formatBytes,
    } = window.cutroomUploadKnown);
    init();
  }

  if (document.readyState === "complete") boot();
  else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else {
    // run as a deferred script: the others (in any order) run before DOMContentLoaded, but
    // a script added after it gets no such event, so also try when the page has loaded
    document.addEventListener("DOMContentLoaded", boot);
    window.addEventListener("load", boot, { once: true });
  }
})();
