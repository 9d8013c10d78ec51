// Vite's types for the bundle: CSS imports and import.meta.env.
/// <reference types="vite/client" />
