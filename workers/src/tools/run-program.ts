// Moved to @carillon/core (the app converts uploaded prompts with it too); the workers keep importing it from here.
export { findOnPath, ProgramNotStartedError, runProgram, type ProgramResult } from '@carillon/core/audio';
