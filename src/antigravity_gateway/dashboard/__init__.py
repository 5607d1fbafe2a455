"""The web dashboard at `/ui/`: static pages (vendored Alpine.js and uPlot, no build step) and
the sign-in routes that give a browser its session cookie. Every change a page makes goes
through the admin API (`/api/...`); nothing here reads accounts or settings itself.
"""
