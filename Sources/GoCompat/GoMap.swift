/// A value that Docker's Go types hold as a map (`map[string]T`: Labels, Options, Networks …), not
/// as a struct. A template reads a key a map lacks as its zero value (`<no value>`), where a field
/// a struct lacks is an error; encoders that keep the difference (TextTemplate's) look for this.
public protocol GoMap {}
