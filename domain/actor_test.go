package domain

import "testing"

func TestValidateActor(t *testing.T) {
	const field = "x-ecoregistry-actor"
	t.Run("a named actor is accepted", func(t *testing.T) {
		if err := ValidateActor(field, "office-hubei/zhang.wei"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a command without an actor is refused with E1026", func(t *testing.T) {
		expectCheck(t, ValidateActor(field, ""), CheckActorRequired, field)
	})
	t.Run("a blank actor is refused with E1026", func(t *testing.T) {
		expectCheck(t, ValidateActor(field, "  \t"), CheckActorRequired, field)
	})
	t.Run("an actor with control characters is refused with E1005", func(t *testing.T) {
		expectCheck(t, ValidateActor(field, "eve\x00"), CheckInvalidText, field)
	})
	t.Run("an overlong actor is refused with E1005", func(t *testing.T) {
		long := make([]byte, MaxActorLength+1)
		for i := range long {
			long[i] = 'a'
		}
		expectCheck(t, ValidateActor(field, string(long)), CheckInvalidText, field)
	})
}
