// check.mjs opens HTML files in the system's headless Chromium through
// playwright-core and prints what mail/browser_test.go asserts on, as JSON:
// page width vs viewport, every image's load state and box, the quote text,
// and the contrast of every text element against its effective background.
// It judges nothing itself; the Go test does.
//
// Usage: node check.mjs CONFIG.json
//   {"chromium": "/usr/bin/chromium", "outDir": "...",
//    "pages": [{"name": "single", "file": "/abs/single.html"}],
//    "viewports": [{"name": "phone", "width": 375, "height": 812, "mobile": true}],
//    "schemes": ["light", "dark"]}
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));

// Runs inside the page: collects layout and colour facts.
function inspect() {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  // The colour actually behind an element: the nearest ancestor (or itself)
  // with an opaque background; the canvas is white when nothing paints.
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    const dark = matchMedia('(prefers-color-scheme: dark)').matches;
    return dark ? { r: 18, g: 18, b: 18, a: 1 } : { r: 255, g: 255, b: 255, a: 1 };
  };
  const texts = [];
  for (const el of document.querySelectorAll('.date, .intro, .heading, .caption, .quote, .author, .footer, .footer a')) {
    const fg = parse(getComputedStyle(el).color);
    const bg = background(el);
    const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    texts.push({
      cls: el.className, text: el.innerText.slice(0, 80),
      color: getComputedStyle(el).color, background: `rgb(${bg.r}, ${bg.g}, ${bg.b})`,
      contrast: (l1 + 0.05) / (l2 + 0.05),
    });
  }
  const images = [...document.images].map((img) => {
    const r = img.getBoundingClientRect();
    const s = getComputedStyle(img);
    return {
      alt: img.alt, complete: img.complete, background: s.backgroundColor, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
      left: r.left, right: r.right, width: r.width, height: r.height,
      visible: s.display !== 'none' && s.visibility !== 'hidden' && Number(s.opacity) > 0 && r.width > 0 && r.height > 0,
    };
  });
  return {
    innerWidth: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    bodyScrollWidth: document.body.scrollWidth,
    scrollHeight: document.documentElement.scrollHeight,
    darkMatches: matchMedia('(prefers-color-scheme: dark)').matches,
    pageBackground: getComputedStyle(document.body).backgroundColor,
    quotes: [...document.querySelectorAll('.quote')].map((e) => e.innerText),
    headings: [...document.querySelectorAll('h1, h2, h3')].map((e) => ({ level: e.tagName.toLowerCase(), text: e.innerText })),
    // The hidden preheader (the body's first element) and what follows
    // its text: the inbox preview reads this, then runs on into the body.
    preheader: (() => {
      const el = document.body.firstElementChild;
      const t = el ? el.textContent : '';
      const s = getComputedStyle(el);
      return { text: t, spacers: (t.match(/\u034f/g) || []).length, hidden: s.display === 'none' };
    })(),
    images,
    texts,
  };
}

const browser = await chromium.launch({
  executablePath: cfg.chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const results = [];
try {
  for (const vp of cfg.viewports) {
    for (const scheme of cfg.schemes) {
      const context = await browser.newContext({
        viewport: { width: vp.width, height: vp.height },
        isMobile: !!vp.mobile, hasTouch: !!vp.mobile, deviceScaleFactor: vp.scale || 1,
        colorScheme: scheme,
        javaScriptEnabled: true,
        offline: true, // the mail must not need the network
      });
      const requests = [];
      context.on('request', (req) => {
        const u = req.url();
        if (!u.startsWith('file:') && !u.startsWith('data:')) requests.push(u);
      });
      for (const page of cfg.pages) {
        const p = await context.newPage();
        await p.goto(pathToFileURL(page.file).href, { waitUntil: 'load' });
        const facts = await p.evaluate(inspect);
        const shot = join(cfg.outDir, `${page.name}-${vp.name}-${scheme}.png`);
        await p.screenshot({ path: shot, fullPage: true });
        results.push({ page: page.name, viewport: vp.name, width: vp.width, scheme, screenshot: shot, requests: [...requests], ...facts });
        await p.close();
      }
      await context.close();
    }
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results, null, 1) + '\n');
