"""What comes back from the office's mailbox: bounces, auto-replies, complaints, unsubscribe
mail, calendar answers and human replies, each classified and tied to the delivery it answers."""
