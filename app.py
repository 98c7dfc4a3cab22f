"""Streamlit entry point: layout only; every decision is made in the tracker package."""

from __future__ import annotations

import streamlit as st

import tracker

st.set_page_config(page_title="Ketamine review tracker", layout="wide")
st.title("Esketamine / ketamine for chronic pain: living review")

settings = tracker.Settings.from_env()
store = tracker.Store(settings.data_dir)
try:
    records = store.records(["pmid", "year", "title", "journal"])
except tracker.TrackerError as exc:
    st.error(str(exc))
    st.stop()

if records.empty:
    st.info("The store is empty. Import PubMed XML with `tracker import FILE` to begin.")
else:
    st.caption(f"{len(records):,} records in {settings.data_dir}")
    st.dataframe(records, hide_index=True, width="stretch")
